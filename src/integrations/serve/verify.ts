// Webhook signatures: how each route's sender signs a delivery, checked on the raw bytes
// before anything parses them, and made for `trig sign`. Every comparison is constant-time
// (crypto.timingSafeEqual, after checking that the lengths are equal, which the lengths
// of the digests give away anyway). `trig serve` and `trig fire --verify` use the same
// functions.

import { hmac, sameBytes, signStandard, standardKey } from '../../shared/standard-webhooks.js';

export { sameBytes, signStandard, standardKey };

export const ROUTES = ['github', 'linear', 'standard'] as const;
export type Route = (typeof ROUTES)[number];

/** The environment variable that holds each route's secret. */
export const SECRET_ENV: Readonly<Record<Route, string>> = {
  github: 'TRIG_GITHUB_WEBHOOK_SECRET',
  linear: 'TRIG_LINEAR_WEBHOOK_SECRET',
  standard: 'TRIG_WEBHOOK_SECRET',
};

/** The header that carries each route's delivery id (lower case, as node:http gives them). */
export const DELIVERY_HEADER: Readonly<Record<Route, string>> = {
  github: 'x-github-delivery',
  linear: 'linear-delivery',
  standard: 'webhook-id',
};

/** Linear: a delivery whose webhookTimestamp is further than this from now is refused (Linear's advice). */
export const LINEAR_TOLERANCE_MS = 60_000;
/** Standard Webhooks: the same for webhook-timestamp (the specification's default). */
export const STANDARD_TOLERANCE_MS = 5 * 60_000;

export type Verdict = { ok: true } | { ok: false; reason: string };

const OK: Verdict = { ok: true };
const fail = (reason: string): Verdict => ({ ok: false, reason });

const HEX_DIGEST = /^[0-9a-f]{64}$/i;

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export function verifyGithub(body: Buffer, signature: string | undefined, secret: string): Verdict {
  if (signature === undefined) return fail('missing X-Hub-Signature-256 header');
  const hex = signature.startsWith('sha256=') ? signature.slice('sha256='.length) : undefined;
  if (hex === undefined || !HEX_DIGEST.test(hex)) return fail('malformed X-Hub-Signature-256 header (expected sha256=<64 hex digits>)');
  return sameBytes(Buffer.from(hex, 'hex'), hmac(secret, body)) ? OK : fail('X-Hub-Signature-256 does not match the body');
}

export function signGithub(body: Buffer, secret: string): string {
  return `sha256=${hmac(secret, body).toString('hex')}`;
}

/** Linear: `Linear-Signature: <hex HMAC-SHA256 of the body>`; the body's webhookTimestamp is checked after parsing (linearTimestamp). */
export function verifyLinear(body: Buffer, signature: string | undefined, secret: string): Verdict {
  if (signature === undefined) return fail('missing Linear-Signature header');
  if (!HEX_DIGEST.test(signature)) return fail('malformed Linear-Signature header (expected 64 hex digits)');
  return sameBytes(Buffer.from(signature, 'hex'), hmac(secret, body)) ? OK : fail('Linear-Signature does not match the body');
}

export function signLinear(body: Buffer, secret: string): string {
  return hmac(secret, body).toString('hex');
}

/** Linear's replay protection: the signed body's webhookTimestamp (milliseconds) within a minute of now. */
export function linearTimestamp(payload: Record<string, unknown>, now: Date): Verdict {
  const at = payload.webhookTimestamp;
  if (typeof at !== 'number' || !Number.isFinite(at)) return fail('the body has no numeric webhookTimestamp');
  if (Math.abs(now.getTime() - at) > LINEAR_TOLERANCE_MS) return fail('webhookTimestamp is more than 60 s away from now');
  return OK;
}

export interface StandardHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature` lists `v1,<base64 HMAC-SHA256
 * of "id.timestamp.body">` entries separated by spaces (one per secret while a secret is
 * rotated); any one matching is enough. The timestamp (seconds) must be within 5 minutes.
 */
export function verifyStandard(body: Buffer, headers: StandardHeaders, secret: string, now: Date): Verdict {
  const key = standardKey(secret);
  if (!key) return fail('the secret is not a Standard Webhooks secret (whsec_<base64>)');
  if (headers.id === undefined) return fail('missing webhook-id header');
  if (headers.timestamp === undefined) return fail('missing webhook-timestamp header');
  if (headers.signature === undefined) return fail('missing webhook-signature header');
  if (!/^\d{1,15}$/.test(headers.timestamp)) return fail('malformed webhook-timestamp header (expected seconds since 1970)');
  if (Math.abs(now.getTime() - Number(headers.timestamp) * 1000) > STANDARD_TOLERANCE_MS) {
    return fail('webhook-timestamp is more than 5 minutes away from now');
  }
  const expected = hmac(key, Buffer.concat([Buffer.from(`${headers.id}.${headers.timestamp}.`), body]));
  let matched = false;
  for (const entry of headers.signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = entry.slice(comma + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(given)) continue;
    // Every entry is compared: how many come before the matching one is not given away.
    if (sameBytes(Buffer.from(given, 'base64'), expected)) matched = true;
  }
  return matched ? OK : fail('no v1 entry of webhook-signature matches the body');
}
