// The small sections: scan, dns, trust, state, server, revocation. Their values are read as the
// options table declares them; trust also keeps the contents of its CA files.
import { formatDuration } from '../duration.js';
import { readSection, readValues, sectionValues } from '../mapping.js';
import { DNS, REVOCATION, SCAN, SERVER, STATE, TRUST } from '../options.js';
import type { Ctx, Field } from '../reader.js';
import type { DnsConfig, RevocationConfig, ScanConfig, ServerConfig, StateConfig, TrustConfig } from '../types.js';

export function readScan(ctx: Ctx, field: Field | undefined): ScanConfig {
  const map = readSection(ctx, field, SCAN);
  const scan: ScanConfig = readValues(ctx, map, SCAN).values;
  if (scan.expiryCriticalMs > scan.expiryWarningMs) {
    const at = map.fields.get('expiry_critical') ?? map.fields.get('expiry_warning');
    if (at) {
      ctx.report(at.at, at.key, `expiry_critical (${formatDuration(scan.expiryCriticalMs)}) is longer than expiry_warning (${formatDuration(scan.expiryWarningMs)}): the critical band must lie inside the warning band; lower expiry_critical or raise expiry_warning`);
    }
    scan.expiryCriticalMs = scan.expiryWarningMs;
  }
  return scan;
}
export const readDns = (ctx: Ctx, field: Field | undefined): DnsConfig => sectionValues(ctx, field, DNS);
export const readState = (ctx: Ctx, field: Field | undefined): StateConfig => sectionValues(ctx, field, STATE);
export const readServer = (ctx: Ctx, field: Field | undefined): ServerConfig => sectionValues(ctx, field, SERVER);
export const readRevocation = (ctx: Ctx, field: Field | undefined): RevocationConfig => sectionValues(ctx, field, REVOCATION);

export function readTrust(ctx: Ctx, field: Field | undefined): TrustConfig {
  const { caFiles, systemRoots } = sectionValues(ctx, field, TRUST);
  const trust: TrustConfig = { caFiles: caFiles.map((f) => f.path), caPems: [], systemRoots };
  // caPems in the order of caFiles, once every file has been read.
  ctx.afterReads.push(() => trust.caPems.push(...caFiles.flatMap((f) => (f.text === null ? [] : [f.text]))));
  return trust;
}
