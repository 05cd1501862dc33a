import { Counter, type Registry } from 'prom-client';

export const ALERT_DELIVERIES = 'chainwatch_alert_deliveries_total';

export type DeliveryCounter = Counter<'receiver' | 'result'>;

/**
 * chainwatch_alert_deliveries_total{receiver,result} in the daemon's registry. Returns the
 * counter already there if the metrics module (or an earlier call) registered it, so either side
 * may create it first.
 */
export function registerAlertDeliveries(registry: Registry): DeliveryCounter {
  const existing = registry.getSingleMetric(ALERT_DELIVERIES);
  if (existing) return existing as DeliveryCounter;
  return new Counter({
    name: ALERT_DELIVERIES,
    help: 'Alert deliveries to Alertmanager and webhooks by receiver and result.',
    labelNames: ['receiver', 'result'],
    registers: [registry],
  });
}
