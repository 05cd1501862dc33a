// Targets → endpoints: one (target, address) pair per probe. Pure apart from the resolver.
import { isIP } from 'node:net';
import type { TargetConfig } from '../config/types.js';
import { compareAddresses, distinctAddresses } from './address.js';
import { DnsError, type ResolveMode, type Resolver } from './resolver.js';
import type { Endpoint, ResolveError } from './types.js';

/**
 * A burst of hundreds of UDP queries overflows socket buffers (ours or the server's), and each
 * dropped datagram costs a resolver retry timeout; a few dozen in flight resolve a fleet faster.
 */
const MAX_LOOKUPS_IN_FLIGHT = 32;

function limiter(max: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active < max) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

function asResolveError(host: string, err: unknown): ResolveError {
  if (err instanceof DnsError) return { kind: 'dns', message: err.message };
  return { kind: 'dns', message: `cannot resolve ${host}: ${(err as Error)?.message ?? String(err)}` };
}

function endpoint(t: TargetConfig, key: string, address: string | null, resolveError: ResolveError | null): Endpoint {
  return {
    key,
    target: t.name,
    group: t.group,
    role: t.role,
    labels: t.labels,
    host: t.host,
    port: t.port,
    address,
    sni: t.sni,
    url: t.url,
    clientCert: t.clientCert ? { cert: t.clientCert.cert, key: t.clientCert.key } : null,
    starttls: t.starttls,
    resolveError,
  };
}

/**
 * Endpoints in target order. `address` and IP-literal hosts need no lookup; `resolve: first`
 * gives one endpoint keyed by the target name; `resolve: all` one per distinct address, keyed
 * `name@address`, IPv4 before IPv6 in numeric order. A failed lookup yields one endpoint with
 * no address and resolveError set, so the probe reports it like any other failure.
 */
export async function expandTargets(targets: readonly TargetConfig[], resolver: Resolver): Promise<Endpoint[]> {
  // Fleets name the same pool on many ports: ask once per host and mode.
  const lookups = new Map<string, Promise<string[] | ResolveError>>();
  const limit = limiter(MAX_LOOKUPS_IN_FLIGHT);
  const lookup = (host: string, mode: ResolveMode): Promise<string[] | ResolveError> => {
    const id = `${mode} ${host.toLowerCase()}`;
    let pending = lookups.get(id);
    if (!pending) {
      pending = limit(() => resolver.lookup(host, mode)).then(
        (addresses) => (addresses.length > 0 ? addresses : { kind: 'dns' as const, message: `cannot resolve ${host}: no addresses` }),
        (err: unknown) => asResolveError(host, err),
      );
      lookups.set(id, pending);
    }
    return pending;
  };

  const perTarget = await Promise.all(
    targets.map(async (t): Promise<Endpoint[]> => {
      if (t.address) return [endpoint(t, t.name, t.address, null)];
      if (isIP(t.host)) return [endpoint(t, t.name, t.host, null)];
      const found = await lookup(t.host, t.resolve);
      if (!Array.isArray(found)) return [endpoint(t, t.name, null, found)];
      if (t.resolve === 'first') return [endpoint(t, t.name, found[0]!, null)];
      return distinctAddresses(found)
        .sort(compareAddresses)
        .map((a) => endpoint(t, `${t.name}@${a}`, a, null));
    }),
  );
  return perTarget.flat();
}
