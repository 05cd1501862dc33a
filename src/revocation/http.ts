// The one place revocation talks HTTP: bounded in time (one deadline for connect, redirects and
// body), in size, and in where redirects may lead. Never throws; failures come back as words.

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: Buffer;
  contentType?: string;
  accept: string;
  /** Validators of the copy already held, for a conditional GET. */
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  maxBytes: number;
  /** Aborts the request (shutdown or reload). */
  signal?: AbortSignal;
}

export type HttpResult =
  | { kind: 'ok'; body: Buffer; etag: string | null; lastModified: string | null; durationMs: number }
  | { kind: 'not_modified'; durationMs: number }
  | { kind: 'failed'; error: string; status: number | null; durationMs: number };

const MAX_REDIRECTS = 3;

/** Only these schemes are ever fetched; LDAP and file URLs are reported, not followed. */
export function isFetchable(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export async function httpFetch(r: HttpRequest): Promise<HttpResult> {
  const t0 = performance.now();
  const elapsed = () => Math.round((performance.now() - t0) * 10) / 10;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), r.timeoutMs);
  const cancel = () => controller.abort();
  r.signal?.addEventListener('abort', cancel, { once: true });
  try {
    // Loaded on the first fetch: a fleet whose certificates name no CRL or OCSP source, and every
    // command that never scans, starts without the HTTP client.
    const { request } = await import('undici');
    let url = r.url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { accept: r.accept, 'user-agent': 'chainwatch' };
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.etag) headers['if-none-match'] = r.etag;
      if (r.lastModified) headers['if-modified-since'] = r.lastModified;
      const res = await request(url, { method: r.method, headers, body: r.body, signal: controller.signal, reset: true });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304) {
        await res.body.dump();
        const location = res.headers.location;
        const next = typeof location === 'string' ? safeResolve(location, url) : null;
        if (next === null) return failed(`HTTP ${res.statusCode} redirect without a usable Location`, res.statusCode);
        if (!isFetchable(next)) return failed(`redirected to ${next}, which is not http(s); not followed`, res.statusCode);
        if (hop + 1 > MAX_REDIRECTS) return failed(`more than ${MAX_REDIRECTS} redirects (last to ${next})`, res.statusCode);
        url = next;
        continue;
      }
      if (res.statusCode === 304) {
        await res.body.dump();
        return { kind: 'not_modified', durationMs: elapsed() };
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        return failed(`HTTP ${res.statusCode} from ${url}`, res.statusCode);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > r.maxBytes) {
        res.body.destroy();
        return failed(`refused: ${declared} bytes announced, more than the ${r.maxBytes}-byte limit (revocation.max_crl_size)`, res.statusCode);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > r.maxBytes) {
          res.body.destroy();
          return failed(`refused: more than the ${r.maxBytes}-byte limit (revocation.max_crl_size) was sent`, res.statusCode);
        }
        chunks.push(chunk as Buffer);
      }
      return {
        kind: 'ok',
        body: Buffer.concat(chunks),
        etag: header(res.headers.etag),
        lastModified: header(res.headers['last-modified']),
        durationMs: elapsed(),
      };
    }
  } catch (err) {
    if (r.signal?.aborted) return failed('cancelled (shutdown or reload)', null);
    if (controller.signal.aborted) return failed(`no complete answer within ${r.timeoutMs / 1000}s (timeout)`, null);
    return failed(describeNetworkError(err), null);
  } finally {
    clearTimeout(timer);
    r.signal?.removeEventListener('abort', cancel);
  }

  function failed(error: string, status: number | null): HttpResult {
    return { kind: 'failed', error, status, durationMs: elapsed() };
  }
}

function header(v: string | string[] | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function safeResolve(location: string, base: string): string | null {
  try {
    return new URL(location, base).toString();
  } catch {
    return null;
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host is unreachable';
    default:
      return (e.cause?.message ?? e.message) || String(err);
  }
}
