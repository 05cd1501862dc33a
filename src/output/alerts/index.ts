// Alerting: derive alerts from a scan, push them to Alertmanager and webhooks.
export { AlertDispatcher, type AlertDispatcherOptions } from './dispatcher.js';
export { deriveAlerts, conditionUndetermined, type DeriveOptions } from './derive.js';
export { fingerprint } from './fingerprint.js';
export { genericBody, slackBody, teamsBody, toPostableAlert, webhookBody, type PostableAlert } from './formats.js';
export { registerAlertDeliveries, ALERT_DELIVERIES, type DeliveryCounter } from './metrics.js';
export { DEFAULT_RETRY, receiverName, type DeliveryResult, type RetryOptions } from './receivers.js';
export type { Alert, AlertName, ScanTransitions, Severity, Transition } from './types.js';
