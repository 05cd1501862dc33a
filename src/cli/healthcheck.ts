// `chainwatch healthcheck --config FILE`: for container HEALTHCHECKs and other supervisors that
// can run a command but not fetch a URL. It asks /healthz on the address the config listens on.
// Only `server.listen` is read, leniently: a config being edited (or refused on reload) must not
// make a running daemon look dead, since the daemon keeps serving with its previous config.

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { SERVER } from '../config/options.js';
import { parseListen } from '../config/values.js';
import { formatHostPort } from '../util/address.js';

const TIMEOUT_MS = 4000;

/** Exit code: 0 healthy, 1 not. One line on stdout or stderr says which and why. */
export async function healthcheckCommand(configFile: string): Promise<number> {
  const { host, port } = await listenAddress(configFile);
  const url = `http://${formatHostPort(reachable(host), port)}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.ok) {
      process.stdout.write(`healthy: ${url} answered ${res.status}\n`);
      return 0;
    }
    process.stderr.write(`unhealthy: ${url} answered ${res.status}\n`);
  } catch (err) {
    process.stderr.write(`unhealthy: ${url}: ${(err as Error).message}\n`);
  }
  return 1;
}

async function listenAddress(configFile: string): Promise<{ host: string; port: number }> {
  const fallback = parseListen(SERVER.children.listen.default as string)!;
  try {
    const doc = parse(await readFile(configFile, 'utf8')) as { server?: { listen?: unknown } } | null;
    const text = doc?.server?.listen;
    if (text === undefined) return fallback;
    const listen = typeof text === 'string' ? parseListen(text) : null;
    if (listen !== null && listen.port !== 0) return listen;
    process.stderr.write(`note: server.listen in ${configFile} is not a fixed host:port; trying ${formatHostPort(fallback.host, fallback.port)}\n`);
  } catch (err) {
    process.stderr.write(
      `note: cannot read server.listen from ${configFile} (${(err as Error).message}); trying ${formatHostPort(fallback.host, fallback.port)}\n`,
    );
  }
  return fallback;
}

/** A wildcard listen address is reached over loopback. */
function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (isIP(host) === 6 && /^[0:]+$/.test(host)) return '::1';
  return host;
}
