// The route table: what the daemon serves, by path. Routes know nothing of sockets, TLS or
// authentication; the front (front.ts) owns those and hands each request here, so a layer added
// around the front (TLS, basic auth, the web configuration file) never touches a route.

import type { IncomingHttpHeaders } from 'node:http';
import type { BodyPart } from '../../output/body.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  /** The path without the query string, e.g. /targets/web1. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface HttpReply {
  status: number;
  /** Content-Type. */
  type: string;
  /** A list of parts is sent one after the other, as one body. */
  body: string | Buffer | BodyPart[];
  /** Extra response headers, e.g. a Content-Security-Policy for a page. */
  headers?: Record<string, string>;
}

export type RouteHandler = (req: HttpRequest) => HttpReply | Promise<HttpReply>;

interface Route {
  /** An exact path, or a prefix when it ends with '/' and was added with prefix(). */
  path: string;
  isPrefix: boolean;
  handler: RouteHandler;
  /** Listed in the 404 answer so a person can find their way. */
  listed: boolean;
}

const TEXT = 'text/plain; charset=utf-8';

export class RouteTable {
  private readonly routes: Route[] = [];

  /** Serves GET and HEAD of exactly `path`. */
  get(path: string, handler: RouteHandler, o: { listed?: boolean } = {}): this {
    this.add({ path, isPrefix: false, handler, listed: o.listed ?? true });
    return this;
  }

  /** Serves GET and HEAD of every path under `prefix` (which ends with '/'). */
  prefix(prefix: string, handler: RouteHandler): this {
    if (!prefix.endsWith('/')) throw new Error(`route prefix ${prefix} must end with '/'`);
    this.add({ path: prefix, isPrefix: true, handler, listed: false });
    return this;
  }

  /** The reply for one request: the route's, or 404 naming the paths that exist. */
  async handle(req: HttpRequest): Promise<HttpReply> {
    const route =
      this.routes.find((r) => !r.isPrefix && r.path === req.path) ??
      this.routes.find((r) => r.isPrefix && req.path.startsWith(r.path) && req.path.length > r.path.length);
    if (route) return route.handler(req);
    const known = this.routes.filter((r) => r.listed).map((r) => r.path);
    return { status: 404, type: TEXT, body: `not found; try ${known.join(', ')}\n` };
  }

  private add(route: Route): void {
    if (this.routes.some((r) => r.path === route.path && r.isPrefix === route.isPrefix)) {
      throw new Error(`route ${route.path} is registered twice`);
    }
    this.routes.push(route);
  }
}
