// What an alert is inside chainwatch, before it is shaped for Alertmanager or a chat webhook.

export type AlertName =
  | 'ChainwatchIssuerDivergence'
  | 'ChainwatchCertificateChanged'
  | 'ChainwatchCertificateExpiringSoon'
  | 'ChainwatchProbeFailing'
  | 'ChainwatchCertificateRevoked'
  | 'ChainwatchCrlStale'
  | 'ChainwatchCrlUnreachable';

export type Severity = 'critical' | 'warning' | 'info';

export type AlertAnnotations = Record<string, string> & {
  /** One line: what is wrong and what is expected. */
  summary: string;
  /** The detail an operator needs to act, including what to do. */
  description: string;
};

export interface Alert {
  /** Includes `alertname` and `severity`. Empty values are left out (Alertmanager treats them as absent). */
  labels: Record<string, string>;
  annotations: AlertAnnotations;
  /** When the condition was first seen (for a certificate change: when the change was found). */
  startsAt: Date;
  generatorURL: string;
  /** alertname + sorted labels, hashed: the alert's identity across scans. */
  fingerprint: string;
  /**
   * Conditions are null: active while the scan shows them. An event (a certificate change) has no
   * condition that ends, so it stays active until this time and then resolves.
   */
  holdUntil: Date | null;
  /**
   * Consecutive scans a condition must be seen in before it fires, so a single lost probe does
   * not page anyone and then resolve five minutes later. 1 = at once.
   */
  forScans: number;
}

export type TransitionStatus = 'firing' | 'resolved';

/** A change of an alert's state: what webhooks get one message for. */
export interface Transition {
  status: TransitionStatus;
  alert: Alert;
  /** For resolved: when it ended. */
  endsAt: Date | null;
}

export interface ScanTransitions {
  firing: Alert[];
  resolved: Alert[];
  /** Active before and after this scan. */
  unchanged: Alert[];
}
