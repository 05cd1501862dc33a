// The revocation section: whether and how CRLs and OCSP answers are fetched.
import { isScalar } from 'yaml';
import { defaultOf } from '../defaults.js';
import { describe, readBoolean, readDuration, type Ctx, type Field } from '../reader.js';
import { parseSize } from '../size.js';
import type { RevocationConfig } from '../types.js';
import { defaultDuration, sectionFields } from './general.js';

const MAX_TIMEOUT_MS = 3_600_000;
const MAX_CRL_BYTES = 1024 ** 3;

export function readRevocation(ctx: Ctx, field: Field | undefined): RevocationConfig {
  const f = sectionFields(ctx, field, 'revocation');
  return {
    enabled: readBoolean(ctx, f.get('enabled')) ?? (defaultOf('revocation.enabled') as boolean),
    refreshMs: readDuration(ctx, f.get('refresh'), { positive: true }) ?? defaultDuration('revocation.refresh'),
    timeoutMs: readDuration(ctx, f.get('timeout'), { positive: true, maxMs: MAX_TIMEOUT_MS, maxText: '1h' }) ?? defaultDuration('revocation.timeout'),
    maxCrlBytes: readSize(ctx, f.get('max_crl_size')) ?? parseSize(defaultOf('revocation.max_crl_size') as string)!,
    staleWarningMs: readDuration(ctx, f.get('stale_warning')) ?? defaultDuration('revocation.stale_warning'),
    ocsp: readBoolean(ctx, f.get('ocsp')) ?? (defaultOf('revocation.ocsp') as boolean),
  };
}

function readSize(ctx: Ctx, field: Field | undefined): number | undefined {
  if (!field || field.node === null) return undefined;
  const v = isScalar(field.node) ? field.node.value : undefined;
  if (typeof v === 'number') {
    ctx.report(field.at, field.key, `${v} has no unit — write a size such as '${v}MB' (units: B, KB, MB, GB; 1024-based)`);
    return undefined;
  }
  const bytes = typeof v === 'string' ? parseSize(v) : null;
  if (bytes === null) {
    ctx.report(field.at, field.key, `expected a size such as 512KB or 20MB (units: B, KB, MB, GB; 1024-based), got ${describe(field.node)}`);
    return undefined;
  }
  if (bytes <= 0 || bytes > MAX_CRL_BYTES) {
    ctx.report(field.at, field.key, `'${String(v)}' is out of range: give more than 0 and at most 1GB`);
    return undefined;
  }
  return bytes;
}
