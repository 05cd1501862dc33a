import { readMapping, readSection, readValues } from '../mapping.js';
import { ALERTING, WEBHOOK } from '../options.js';
import { type Ctx, type Field, readList } from '../reader.js';
import type { AlertingConfig, WebhookConfig } from '../types.js';

function readWebhook(ctx: Ctx, item: Field): WebhookConfig[] {
  if (item.node === null) {
    ctx.report(item.at, item.key, 'empty list entry: expected url and format');
    return [];
  }
  const map = readMapping(ctx, item.node, item.key, WEBHOOK, 'a mapping with url and format');
  if (!map) return [];
  const { values, ok } = readValues(ctx, map, WEBHOOK);
  return ok && values.url !== undefined ? [{ url: values.url, format: values.format }] : [];
}

export function readAlerting(ctx: Ctx, field: Field | undefined): AlertingConfig {
  const map = readSection(ctx, field, ALERTING);
  const { values } = readValues(ctx, map, ALERTING);
  const webhooks = (readList(ctx, map.fields.get('webhooks'), 'a list of webhooks') ?? []).flatMap((item) => readWebhook(ctx, item));
  return { ...values, webhooks };
}
