// An Endpoint as the targets stage would hand it to the probe, for loopback test servers.
import type { Endpoint } from '../../src/targets/types.js';

export function endpointFor(server: { host: string; port: number }, o: Partial<Endpoint> = {}): Endpoint {
  const host = o.host ?? 'web.contoso.test';
  return {
    key: o.target ?? `${host}:${server.port}`,
    target: `${host}:${server.port}`,
    group: 'test',
    role: null,
    host,
    port: server.port,
    address: server.host,
    sni: host,
    url: null,
    clientCert: null,
    starttls: null,
    resolveError: null,
    ...o,
  };
}
