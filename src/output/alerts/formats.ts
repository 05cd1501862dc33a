// The bodies chainwatch sends: Alertmanager's API v2 alert, and one message per transition for
// each webhook format. Pure functions, so the exact bytes are testable and documented here.
//
// generic webhook (format: generic), one POST per transition, Content-Type application/json:
//
//   {
//     "version": "1",
//     "status": "firing" | "resolved",
//     "alert": {
//       "name": "ChainwatchIssuerDivergence",        // = labels.alertname
//       "fingerprint": "5c1f0e9a8b7d6c4e",           // stable id: same value on firing and resolved
//       "labels": { "alertname": "...", "severity": "critical", "policy": "...", "target": "...", ... },
//       "annotations": { "summary": "...", "description": "...", ... },
//       "startsAt": "2025-01-01T10:00:00.000Z",      // when the condition was first seen
//       "endsAt": null | "2025-01-01T11:00:00.000Z", // null while firing; when it ended once resolved
//       "generatorURL": "https://chainwatch.example/targets/web2"
//     }
//   }
//
// Receivers should treat unknown fields as optional: later versions may add fields, and a change
// that is not backwards compatible bumps "version".
//
// slack: an incoming-webhook message, `text` (the notification fallback) plus Block Kit `blocks`
// (header, a mrkdwn section with summary and description, a context line with the labels and the
// status-page link).
//
// teams: a message with one Adaptive Card attachment (`type: "message"`, `attachments[0].contentType`
// "application/vnd.microsoft.card.adaptive", card version 1.2). This is the shape both the classic
// Office 365 "Incoming Webhook" connector and the Workflows app's "post to a channel when a webhook
// request is received" flow accept; the legacy MessageCard format is not accepted by Workflows.

import type { Alert, Transition } from './types.js';

export type WebhookFormatName = 'generic' | 'slack' | 'teams';

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** Alertmanager API v2 (POST /api/v2/alerts takes an array of these). */
export function toPostableAlert(alert: Alert, endsAt: Date): PostableAlert {
  return {
    labels: { ...alert.labels },
    annotations: { ...alert.annotations },
    startsAt: alert.startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    generatorURL: alert.generatorURL,
  };
}

export function webhookBody(format: WebhookFormatName, t: Transition): unknown {
  switch (format) {
    case 'generic':
      return genericBody(t);
    case 'slack':
      return slackBody(t);
    case 'teams':
      return teamsBody(t);
  }
}

export function genericBody(t: Transition): unknown {
  const a = t.alert;
  return {
    version: '1',
    status: t.status,
    alert: {
      name: a.labels.alertname ?? '',
      fingerprint: a.fingerprint,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: a.startsAt.toISOString(),
      endsAt: t.status === 'resolved' && t.endsAt ? t.endsAt.toISOString() : null,
      generatorURL: a.generatorURL,
    },
  };
}

const SLACK_HEADER_MAX = 150;
const SLACK_TEXT_MAX = 3000;

/** Slack reads &, < and > as markup (`<!channel>` would ping everyone), so data is escaped. */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function statusWord(t: Transition): string {
  return t.status === 'firing' ? 'FIRING' : 'RESOLVED';
}

/** Labels people filter by, in a stable order, without the ones already in the title. */
function labelPairs(a: Alert): [string, string][] {
  return Object.entries(a.labels)
    .filter(([k]) => k !== 'alertname')
    .sort(([x], [y]) => x.localeCompare(y));
}

export function slackBody(t: Transition): unknown {
  const a = t.alert;
  const name = a.labels.alertname ?? '';
  const icon =
    t.status === 'resolved'
      ? ':white_check_mark:'
      : a.labels.severity === 'critical'
        ? ':red_circle:'
        : a.labels.severity === 'warning'
          ? ':large_orange_circle:'
          : ':large_blue_circle:';
  const labels = labelPairs(a)
    .map(([k, v]) => `${k}: ${slackEscape(v)}`)
    .join(' | ');
  return {
    text: clip(`${statusWord(t)} ${name}: ${a.annotations.summary}`, SLACK_TEXT_MAX),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(`${icon} ${statusWord(t)}: ${name}`, SLACK_HEADER_MAX), emoji: true } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(`*${slackEscape(a.annotations.summary)}*\n${slackEscape(a.annotations.description)}`, SLACK_TEXT_MAX),
        },
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: clip(`${labels} | <${slackEscape(a.generatorURL)}|Open in chainwatch>`, SLACK_TEXT_MAX) }],
      },
    ],
  };
}

export function teamsBody(t: Transition): unknown {
  const a = t.alert;
  const name = a.labels.alertname ?? '';
  const color = t.status === 'resolved' ? 'Good' : a.labels.severity === 'critical' ? 'Attention' : a.labels.severity === 'warning' ? 'Warning' : 'Accent';
  const facts = labelPairs(a).map(([title, value]) => ({ title, value }));
  facts.push({ title: 'since', value: a.startsAt.toISOString() });
  if (t.status === 'resolved' && t.endsAt) facts.push({ title: 'resolved', value: t.endsAt.toISOString() });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.2',
          body: [
            { type: 'TextBlock', text: `${statusWord(t)}: ${name}`, weight: 'Bolder', size: 'Medium', color, wrap: true },
            { type: 'TextBlock', text: a.annotations.summary, weight: 'Bolder', wrap: true },
            { type: 'TextBlock', text: a.annotations.description, wrap: true },
            { type: 'FactSet', facts },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open in chainwatch', url: a.generatorURL }],
        },
      },
    ],
  };
}
