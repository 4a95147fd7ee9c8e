// The webhook channel: a POST of the gate as JSON, signed as Standard Webhooks
// (standardwebhooks.com) prescribe, with the same signing code `trig sign` uses. The
// webhook-id stays the same on every attempt, so a receiver can drop a retried duplicate.

import { signStandard } from '../../shared/standard-webhooks.js';
import { expectSuccess, httpUrl, NotifyError, postJson } from './http.js';
import type { GateNotice } from './notice.js';
import { channelSecret } from './secret.js';

/** Signs unless the definition names a secret of its own (`secret: <reference>`). */
export const WEBHOOK_SECRET_ENV = 'TRIG_WEBHOOK_SECRET';

/** The JSON a webhook receives (Standard Webhooks' {type, timestamp, data} envelope). */
export function webhookPayload(notice: GateNotice, now: Date): Record<string, unknown> {
  const { gate } = notice;
  return {
    type: 'approval.requested',
    timestamp: now.toISOString(),
    data: {
      gate: gate.id,
      run: gate.runId,
      definition: gate.definition,
      file: gate.file,
      event: gate.eventName,
      step: gate.step,
      message: gate.message,
      deadline: gate.deadline.toISOString(),
      timeoutAction: gate.settings.timeoutAction,
      minApprovers: gate.settings.minApprovers,
      approvers: gate.settings.approvers,
      links: notice.links,
      commands: notice.commands,
    },
  };
}

export async function sendWebhook(notice: GateNotice, settings: Record<string, unknown>, env: NodeJS.ProcessEnv, now: Date): Promise<void> {
  const url = httpUrl(settings.url, 'url');
  const secret = channelSecret(settings, 'secret', WEBHOOK_SECRET_ENV, env);
  const body = Buffer.from(JSON.stringify(webhookPayload(notice, now)));
  const id = `msg_${notice.gate.id}`;
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = signStandard(body, id, timestamp, secret);
  if (!signature) throw new NotifyError('the signing secret is not a Standard Webhooks secret (whsec_<base64>)');
  const answer = await postJson(url, body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature });
  expectSuccess(answer, 'the webhook');
}
