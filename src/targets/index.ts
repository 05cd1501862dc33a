export { expandTargets } from './expand.js';
export { createResolver, DnsError, type Resolver, type ResolveMode } from './resolver.js';
export { compareAddresses, distinctAddresses, ipBytes } from './address.js';
export type { Endpoint } from './types.js';
