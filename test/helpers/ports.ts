// Ports for servers that must be named before they start (Prometheus, Alertmanager, a CRL URL
// written into a certificate, a config's listen address).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The lowest port the kernel hands out for outgoing connections. A port below it is never taken
 * as the source port of a connection, so between being found free and being listened on it can
 * only be taken by another listener that names it; a port from listen(0) lies in that range,
 * where every probe a parallel test makes can take it (a scan of many endpoints makes thousands).
 */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const LOW = 10_000;

/** A loopback port nobody listens on right now, outside the range outgoing connections use. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = high > LOW + 1000 ? LOW + Math.floor(Math.random() * (high - LOW)) : 0;
    const got = await new Promise<number | null>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen({ port, host, exclusive: true }, () => {
        const bound = (server.address() as { port: number }).port;
        server.close(() => resolve(bound));
      });
    });
    if (got !== null) return got;
  }
  throw new Error('no free loopback port found in 50 tries');
}
