// The HMAC and Standard Webhooks (standardwebhooks.com) primitives, here at the bottom of the
// layers because both ends use them: `trig serve` verifies deliveries it receives
// (integrations/serve/verify.ts) and the webhook approval channel signs the notifications
// it sends (fire/notify/webhook.ts).

import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmac(key: string | Buffer, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time equality of two byte strings of any length. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** The key of a Standard Webhooks secret: base64 after the `whsec_` prefix. */
export function standardKey(secret: string): Buffer | undefined {
  const base64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const key = Buffer.from(base64, 'base64');
  return key.length ? key : undefined;
}

/** The `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` entry of `webhook-signature`; undefined for a secret that is not whsec_<base64>. */
export function signStandard(body: Buffer, id: string, timestamp: string, secret: string): string | undefined {
  const key = standardKey(secret);
  if (!key) return undefined;
  return `v1,${hmac(key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body])).toString('base64')}`;
}
