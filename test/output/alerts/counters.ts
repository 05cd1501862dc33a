import { Registry } from 'prom-client';
import { alertDeliveriesCounter, type DeliveryCounter } from '../../../src/output/alerts/metrics.js';

export function newCounter(): DeliveryCounter {
  return alertDeliveriesCounter(new Registry());
}

/** {"webhook:generic:127.0.0.1:1234 success": 1, ...} */
export async function countsOf(counter: DeliveryCounter): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await counter.get()).values) out[`${v.labels.receiver} ${v.labels.result}`] = v.value;
  return out;
}
