// Finding the addresses of a target's host: the system resolver (which honours the hosts file)
// or, when dns.servers is set, those servers asked for A and AAAA directly. Every failure
// becomes a ResolveError (the probe's 'dns' error kind) worded for the operator.
import { promises as dnsPromises } from 'node:dns';
import type { DnsConfig } from '../config/types.js';
import { distinctAddresses } from './address.js';
import type { ResolveError } from './types.js';

export type ResolveMode = 'first' | 'all';

export interface Resolver {
  /** Addresses of host: one for 'first', every distinct A and AAAA record for 'all'. Rejects with DnsError. */
  lookup(host: string, mode: ResolveMode): Promise<string[]>;
}

export class DnsError extends Error implements ResolveError {
  readonly kind = 'dns' as const;

  constructor(message: string) {
    super(message);
    this.name = 'DnsError';
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** Rejects with a DnsError when the lookup outlives the deadline; `onTimeout` may cancel it. */
async function withDeadline<T>(work: Promise<T>, ms: number, host: string, who: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(
        new DnsError(`cannot resolve ${host}: ${who} did not answer within ${seconds(ms)}; check that it is reachable and serving, or raise scan.timeout`),
      );
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function systemError(host: string, err: NodeJS.ErrnoException): DnsError {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'ENODATA':
    case 'EAI_NONAME':
      return new DnsError(
        `cannot resolve ${host}: the name does not exist or has no A/AAAA records (system resolver); check the name, the DNS zone, or set address`,
      );
    case 'EAI_AGAIN':
      return new DnsError(
        `cannot resolve ${host}: the system resolver's DNS servers did not answer (temporary failure); check the host's DNS settings or set dns.servers`,
      );
    default:
      return new DnsError(`cannot resolve ${host}: ${err.code ?? 'error'} from the system resolver (${err.message})`);
  }
}

function systemResolver(timeoutMs: number): Resolver {
  return {
    async lookup(host, mode) {
      try {
        const found = await withDeadline(dnsPromises.lookup(host, { all: true }), timeoutMs, host, 'the system resolver');
        const addresses = distinctAddresses(found.map((f) => f.address));
        if (addresses.length === 0) throw new DnsError(`cannot resolve ${host}: no addresses (system resolver)`);
        return mode === 'first' ? addresses.slice(0, 1) : addresses;
      } catch (err) {
        throw err instanceof DnsError ? err : systemError(host, err as NodeJS.ErrnoException);
      }
    },
  };
}

/** Why neither an A nor an AAAA answer came back, from the two error codes. */
function serverError(host: string, servers: string, codes: string[]): DnsError {
  const has = (code: string): boolean => codes.includes(code);
  if (has('ENOTFOUND')) return new DnsError(`cannot resolve ${host}: the name does not exist (NXDOMAIN from ${servers}); check the name or the DNS zone`);
  if (codes.every((c) => c === 'ENODATA')) return new DnsError(`cannot resolve ${host}: the name exists but has no A or AAAA records (${servers})`);
  if (has('ECONNREFUSED')) return new DnsError(`cannot resolve ${host}: DNS server ${servers} is unreachable (connection refused); check dns.servers`);
  if (has('ETIMEOUT') || has('ECANCELLED'))
    return new DnsError(`cannot resolve ${host}: DNS server ${servers} did not answer; check dns.servers and the network path`);
  if (has('ESERVFAIL')) return new DnsError(`cannot resolve ${host}: DNS server ${servers} failed to answer (SERVFAIL)`);
  if (has('EREFUSED'))
    return new DnsError(`cannot resolve ${host}: DNS server ${servers} refused the query (is it authoritative for or recursive to this zone?)`);
  return new DnsError(`cannot resolve ${host}: ${codes.join('/')} from ${servers}`);
}

function serverResolver(servers: string[], timeoutMs: number): Resolver {
  const who = servers.length === 1 ? servers[0]! : servers.join(', ');
  return {
    async lookup(host, mode) {
      // One c-ares channel per lookup, so a deadline can cancel this lookup and nothing else.
      const resolver = new dnsPromises.Resolver({ timeout: Math.max(50, Math.floor(timeoutMs / 3)), tries: 2 });
      resolver.setServers(servers);
      const both = Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const [v4, v6] = await withDeadline(both, timeoutMs, host, `DNS server ${who}`, () => resolver.cancel());
      const addresses = distinctAddresses([...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])]);
      if (addresses.length > 0) return mode === 'first' ? addresses.slice(0, 1) : addresses;
      const codes = [v4, v6].map((r) => (r.status === 'rejected' ? String((r.reason as NodeJS.ErrnoException).code ?? 'error') : 'ENODATA'));
      throw serverError(host, who, codes);
    },
  };
}

export function createResolver(dns: DnsConfig, timeoutMs: number): Resolver {
  return dns.servers.length === 0 ? systemResolver(timeoutMs) : serverResolver(dns.servers, timeoutMs);
}
