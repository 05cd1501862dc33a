// `chainwatch healthcheck --config FILE`: for container HEALTHCHECKs and other supervisors that
// can run a command but not fetch a URL. It asks /healthz on the address the config listens on.
// Only `server.listen` and the web config's TLS are read, leniently: a config being edited (or
// refused on reload) must not make a running daemon look dead, since the daemon keeps serving
// with its previous config. /healthz needs no password; over TLS the certificate is not
// verified (the check asks its own daemon over loopback, while the certificate names the public
// host), and a daemon that requires client certificates cannot be checked this way.

import { readFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { SERVER } from '../config/options.js';
import { type ConfigNode, isMap, isScalar } from '../config/tree.js';
import { parseListen } from '../config/values.js';
import { parseWebConfig } from '../config/web-config.js';
import { readYamlSubset } from '../config/yaml-subset.js';
import { formatHostPort } from '../util/address.js';

const TIMEOUT_MS = 4000;

/** Exit code: 0 healthy, 1 not. One line on stdout or stderr says which and why. */
export async function healthcheckCommand(configFile: string, webConfigFile?: string): Promise<number> {
  const doc = await readServerSection(configFile);
  const { host, port } = listenAddress(configFile, doc);
  const tls = await speaksTls(configFile, webConfigFile ?? doc?.web_config_file);
  const url = `${tls ? 'https' : 'http'}://${formatHostPort(reachable(host), port)}/healthz`;
  try {
    const status = await ask(url, tls);
    if (status === 200) {
      process.stdout.write(`healthy: ${url} answered ${status}\n`);
      return 0;
    }
    process.stderr.write(`unhealthy: ${url} answered ${status}\n`);
  } catch (err) {
    process.stderr.write(`unhealthy: ${url}: ${(err as Error).message}\n`);
  }
  return 1;
}

function ask(url: string, tls: boolean): Promise<number> {
  return new Promise((done, fail) => {
    const req = (tls ? httpsGet : httpGet)(url, { rejectUnauthorized: false, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', fail);
  });
}

interface ServerSection {
  listen?: unknown;
  web_config_file?: unknown;
}

async function readServerSection(configFile: string): Promise<ServerSection | null> {
  try {
    return await serverSection(await readFile(configFile, 'utf8'));
  } catch (err) {
    process.stderr.write(`note: cannot read the server section of ${configFile} (${(err as Error).message}); trying the defaults\n`);
    return null;
  }
}

/** The node under `key` of a mapping node. */
function child(node: ConfigNode | null | undefined, key: string): ConfigNode | null | undefined {
  return isMap(node) ? node.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.value : undefined;
}

/** What a node holds, as the full parser would give it to this command: a scalar's value, or the collection. */
function written(node: ConfigNode | null | undefined): unknown {
  return isScalar(node) ? node.value : (node ?? undefined);
}

/**
 * The server section as written. A container asks every few seconds, and a fleet's config can
 * be a megabyte: the quick reader takes plain YAML, the full parser (loaded then) the rest.
 */
async function serverSection(text: string): Promise<ServerSection> {
  const quick = readYamlSubset(text);
  if (quick === undefined) {
    const { parse } = await import('yaml');
    return (parse(text) as { server?: ServerSection } | null)?.server ?? {};
  }
  const server = child(quick.root, 'server');
  return { listen: written(child(server, 'listen')), web_config_file: written(child(server, 'web_config_file')) };
}

/** True when the web config serves TLS; an unreadable one is taken as plain HTTP, with a note. */
async function speaksTls(configFile: string, webConfigFile: unknown): Promise<boolean> {
  if (typeof webConfigFile !== 'string' || webConfigFile === '') return false;
  const file = isAbsolute(webConfigFile) ? webConfigFile : resolve(dirname(configFile), webConfigFile);
  try {
    return parseWebConfig(await readFile(file, 'utf8'), file, dirname(file)).tls !== null;
  } catch (err) {
    process.stderr.write(`note: cannot read the web config file ${file} (${(err as Error).message}); trying plain HTTP\n`);
    return false;
  }
}

function listenAddress(configFile: string, doc: ServerSection | null): { host: string; port: number } {
  const fallback = parseListen(SERVER.children.listen.default as string)!;
  {
    const text = doc?.listen;
    if (text === undefined) return fallback;
    const listen = typeof text === 'string' ? parseListen(text) : null;
    if (listen !== null && listen.port !== 0) return listen;
    process.stderr.write(`note: server.listen in ${configFile} is not a fixed host:port; trying ${formatHostPort(fallback.host, fallback.port)}\n`);
  }
  return fallback;
}

/** A wildcard listen address is reached over loopback. */
function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (isIP(host) === 6 && /^[0:]+$/.test(host)) return '::1';
  return host;
}
