import { Counter, type Registry } from 'prom-client';

export type DeliveryCounter = Counter<'receiver' | 'result'>;

/** chainwatch_alert_deliveries_total{receiver,result}: created once, with the daemon's other metrics. */
export function alertDeliveriesCounter(registry: Registry): DeliveryCounter {
  return new Counter({
    name: 'chainwatch_alert_deliveries_total',
    help: 'Alert deliveries to Alertmanager and webhooks by receiver and result.',
    labelNames: ['receiver', 'result'],
    registers: [registry],
  });
}
