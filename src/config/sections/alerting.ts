import { isSeq } from 'yaml';
import { defaultOf } from '../defaults.js';
import { readDuration, readList, readMap, readString, required, type Ctx, type Field } from '../reader.js';
import type { AlertingConfig, WebhookConfig, WebhookFormat } from '../types.js';
import { checkHttpUrl, defaultDuration, readBaseUrl, sectionFields } from './general.js';

const FORMATS: readonly WebhookFormat[] = ['teams', 'slack', 'generic'];
const DAY_MS = 86_400_000;

function readAlertmanagerUrls(ctx: Ctx, field: Field | undefined): string[] {
  if (!field || field.node === null) return [];
  // One URL, or a list of them for an HA pair: each instance must get every alert.
  const items = isSeq(field.node) ? (readList(ctx, field) ?? []) : [field];
  const urls: string[] = [];
  for (const item of items) {
    const url = readBaseUrl(ctx, item);
    if (url !== null && !urls.includes(url)) urls.push(url);
  }
  return urls;
}

function readWebhook(ctx: Ctx, item: Field): WebhookConfig | null {
  if (item.node === null) {
    ctx.report(item.at, item.key, 'empty list entry: expected url and format');
    return null;
  }
  const f = readMap(ctx, item.node, item.key, 'alerting.webhooks[]', 'a mapping with url and format');
  if (!f) return null;
  const urlField = required(ctx, f, 'url', item.node, item.key);
  const url = readString(ctx, urlField, 'an http(s) URL');
  let ok = url !== undefined;
  if (url !== undefined) {
    const checked = checkHttpUrl(url);
    // The URL often carries a token: name the problem without echoing it.
    if ('problem' in checked) {
      ctx.report(urlField!.at, urlField!.key, 'must be a valid http:// or https:// URL');
      ok = false;
    }
  }
  const formatField = f.get('format');
  const formatText = readString(ctx, formatField);
  let format = defaultOf('alerting.webhooks[].format') as WebhookFormat;
  if (formatText !== undefined) {
    if ((FORMATS as readonly string[]).includes(formatText)) format = formatText as WebhookFormat;
    else {
      ctx.report(formatField!.at, formatField!.key, `'${formatText}' is not a webhook format: use teams, slack or generic`);
      ok = false;
    }
  }
  return ok ? { url: url!, format } : null;
}

export function readAlerting(ctx: Ctx, field: Field | undefined): AlertingConfig {
  const f = sectionFields(ctx, field, 'alerting');
  const webhooks: WebhookConfig[] = [];
  for (const item of readList(ctx, f.get('webhooks'), 'a list of webhooks') ?? []) {
    const hook = readWebhook(ctx, item);
    if (hook) webhooks.push(hook);
  }
  return {
    alertmanagerUrls: readAlertmanagerUrls(ctx, f.get('alertmanager_url')),
    webhooks,
    resendIntervalMs: readDuration(ctx, f.get('resend_interval'), { positive: true, maxMs: DAY_MS, maxText: '24h' }) ?? defaultDuration('alerting.resend_interval'),
  };
}
