import { createHash } from 'node:crypto';

/**
 * Identity of an alert: a hash over its sorted labels (alertname is one of them). Two alerts with
 * the same labels are the same alert, whatever their annotations say, which is also how
 * Alertmanager merges them.
 */
export function fingerprint(labels: Record<string, string>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(labels).sort()) {
    h.update(name);
    h.update('\0');
    h.update(labels[name] ?? '');
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}
