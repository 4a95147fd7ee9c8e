// Notifying people of a gate through its channel (`uses:` webhook, slack, email, jira), with
// links to decide it. The notification is recorded with the gate (store guarantee 11); the
// trig that creates the gate makes the first attempt at once, and whoever looks at the
// gates next (the cron tick, trig serve, trig approvals / approve / reject) retries a failed
// one with exponential backoff, up to MAX_ATTEMPTS. A channel's failure is only reported:
// it never decides the gate.
//
// Each attempt mints fresh link tokens (one per approver, or one for anyone), storing only
// their SHA-256: the tokens themselves exist only in the message sent. Tokens of an earlier
// attempt stay valid (that message may have arrived even though its attempt failed, e.g. a
// server that took the message but timed out answering).

import { createHash, randomBytes } from 'node:crypto';
import type { ApprovalChannel } from '../../shared/approval.js';
import { createMasker } from '../../shared/mask.js';
import { oneLine } from '../../shared/printable.js';
import { SECRET_PREFIX } from '../../plan/secrets.js';
import type { StoredGate, Store } from '../../store/store.js';
import { sendEmail, SMTP_URL_ENV } from './email.js';
import { NotifyError } from './http.js';
import { JIRA_TOKEN_ENV, sendJira } from './jira.js';
import { gateNotice, linksFor, publicBase, type ApproverLinks, type GateNotice } from './notice.js';
import { sendSlack } from './slack.js';
import { sendWebhook, WEBHOOK_SECRET_ENV } from './webhook.js';

/** Attempts before a notification is given up (about 4 hours of backoff in all). */
export const MAX_ATTEMPTS = 10;
const FIRST_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 60 * 60_000;

/**
 * While an attempt is under way, its notification is not due for anyone else: long enough
 * for its requests to end (a trig that dies mid-attempt leaves it due again after this).
 */
const REQUEST_BUDGET_MS = 60_000;

type Send = (notice: GateNotice, settings: Record<string, unknown>, env: NodeJS.ProcessEnv, now: Date) => Promise<void>;

/** Every channel, checked exhaustive by the compiler; cli notifies nobody (trig approvals lists its gates). */
export const CHANNELS: Readonly<Record<ApprovalChannel, Send | null>> = {
  cli: null,
  webhook: sendWebhook,
  slack: (notice, settings) => sendSlack(notice, settings),
  email: (notice, settings, env) => sendEmail(notice, settings, env),
  jira: (notice, settings, env) => sendJira(notice, settings, env),
};

/** Whether a gate of this channel is notified (and so has a notification recorded). */
export function notifies(channel: string): boolean {
  return Boolean(CHANNELS[channel as ApprovalChannel]);
}

/** The wait before attempt `attempts + 1`: 30 s, doubled each time, at most an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new unguessable token: 32 random bytes, base64url. */
export function mintToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Fresh links for each approver (one pair for anyone when the gate names none), their hashes stored. */
async function mintLinks(store: Store, gate: StoredGate, base: string): Promise<ApproverLinks[]> {
  const names: (string | null)[] = gate.settings.approvers.length ? gate.settings.approvers : [null];
  const minted = names.map((name) => ({ name, token: mintToken() }));
  await store.addApprovalTokens(
    gate.id,
    minted.map(({ name, token }) => ({ name: name ?? '', hash: tokenHash(token) })),
  );
  return minted.map(({ name, token }) => linksFor(base, gate.id, name, token));
}

/** What an error may not show: every secret a channel could have read, and its URL (a Slack webhook URL is a secret). */
function maskerFor(settings: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const secrets = Object.entries(env)
    .filter(([name]) => name.startsWith(SECRET_PREFIX) || [WEBHOOK_SECRET_ENV, JIRA_TOKEN_ENV, SMTP_URL_ENV].includes(name))
    .map(([, value]) => value ?? '');
  const smtp = env[SMTP_URL_ENV];
  if (smtp) {
    try {
      const password = decodeURIComponent(new URL(smtp).password);
      if (password) secrets.push(password, new URL(smtp).password);
    } catch {
      // not a URL: masked whole above
    }
  }
  if (typeof settings.url === 'string') secrets.push(settings.url);
  return createMasker(secrets.filter((s) => s.length >= 3));
}

/**
 * One attempt at a gate's notification, if it is due and no other trig took it: sends, and
 * records what came of it. Never throws for the channel's failure (it is recorded).
 */
export async function deliver(store: Store, gateId: string, env: NodeJS.ProcessEnv, now: Date): Promise<void> {
  const claimed = await store.claimNotification(gateId, { now, retryAt: new Date(now.getTime() + REQUEST_BUDGET_MS) });
  if (!claimed) return;
  const found = await store.findGate(gateId);
  if ('missing' in found || found.found.outcome !== null) return;
  const gate = found.found;
  const send = CHANNELS[gate.settings.uses as ApprovalChannel];
  if (!send) return;
  const settings = gate.settings.channel ?? {};
  const mask = maskerFor(settings, env);
  try {
    const base = publicBase(env);
    const links = base ? await mintLinks(store, gate, base) : [];
    await send(gateNotice(gate, links), settings, env, now);
    await store.finishNotification(gate.id, { delivered: new Date() });
  } catch (error) {
    const why = error instanceof NotifyError ? error.message : `internal error: ${(error as Error).message}`;
    const last = claimed.attempts >= MAX_ATTEMPTS;
    const text = mask(oneLine(why)).slice(0, 500);
    await store.finishNotification(gate.id, {
      error: last ? `${text} (gave up after ${claimed.attempts} attempts)` : text,
      retryAt: last ? null : new Date(Date.now() + backoffMs(claimed.attempts)),
    });
  }
}

/** Every due notification, one attempt each (the step each look at the gates takes). */
export async function retryDue(store: Store, env: NodeJS.ProcessEnv, now: Date): Promise<void> {
  for (const gateId of await store.dueNotifications(now)) await deliver(store, gateId, env, now);
}
