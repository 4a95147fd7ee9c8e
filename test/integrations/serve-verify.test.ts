import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  linearTimestamp,
  signGithub,
  signLinear,
  signStandard,
  verifyGithub,
  verifyLinear,
  verifyStandard,
} from '../../src/integrations/serve/verify.js';

const body = Buffer.from('{"hello":"world"}');
const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const now = new Date('2026-06-01T12:00:00Z');
const seconds = String(now.getTime() / 1000);

describe('GitHub signatures', () => {
  it('accepts its own, refuses a changed byte, a short or malformed header, and none', () => {
    const good = signGithub(body, 's');
    expect(verifyGithub(body, good, 's')).toEqual({ ok: true });
    expect(verifyGithub(Buffer.from('{"hello":"World"}'), good, 's')).toEqual({
      ok: false,
      reason: 'X-Hub-Signature-256 does not match the body',
    });
    expect(verifyGithub(body, good.slice(0, -2), 's').ok).toBe(false);
    expect(verifyGithub(body, good.replace('sha256=', 'sha1='), 's').ok).toBe(false);
    expect(verifyGithub(body, `${good}00`, 's').ok).toBe(false);
    expect(verifyGithub(body, undefined, 's')).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
  });
});

describe('Linear signatures', () => {
  it('is the hex HMAC of the body; the webhookTimestamp must be within 60 s', () => {
    expect(verifyLinear(body, signLinear(body, 'k'), 'k')).toEqual({ ok: true });
    expect(verifyLinear(body, signLinear(body, 'k'), 'j').ok).toBe(false);
    expect(linearTimestamp({ webhookTimestamp: now.getTime() - 59_000 }, now)).toEqual({ ok: true });
    expect(linearTimestamp({ webhookTimestamp: now.getTime() + 61_000 }, now).ok).toBe(false);
    expect(linearTimestamp({}, now)).toEqual({ ok: false, reason: 'the body has no numeric webhookTimestamp' });
  });
});

describe('Standard Webhooks signatures, against the standardwebhooks package', () => {
  const reference = new Webhook(secret);

  it("the package's signature passes; trig's passes the package", () => {
    const theirs = reference.sign('msg_1', now, body.toString());
    expect(verifyStandard(body, { id: 'msg_1', timestamp: seconds, signature: theirs }, secret, now)).toEqual({ ok: true });
    const ours = signStandard(body, 'msg_1', seconds, secret)!;
    expect(ours).toBe(theirs);
    // The package checks the timestamp against its own clock: signed now, for now.
    const at = new Date();
    const fresh = String(Math.floor(at.getTime() / 1000));
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': fresh, 'webhook-signature': signStandard(body, 'msg_2', fresh, secret)! };
    expect(reference.verify(body.toString(), headers)).toEqual({ hello: 'world' });
  });

  it('any v1 entry of a rotated list may match; others, old timestamps and another id do not', () => {
    const good = signStandard(body, 'msg_1', seconds, secret)!;
    const list = `v1,${Buffer.alloc(32).toString('base64')} v2,abc ${good}`;
    expect(verifyStandard(body, { id: 'msg_1', timestamp: seconds, signature: list }, secret, now)).toEqual({ ok: true });
    expect(verifyStandard(body, { id: 'msg_2', timestamp: seconds, signature: good }, secret, now).ok).toBe(false);
    const late = new Date(now.getTime() + 5 * 60_000 + 1000);
    expect(verifyStandard(body, { id: 'msg_1', timestamp: seconds, signature: good }, secret, late)).toEqual({
      ok: false,
      reason: 'webhook-timestamp is more than 5 minutes away from now',
    });
    expect(verifyStandard(body, { id: 'msg_1', timestamp: seconds, signature: undefined }, secret, now).ok).toBe(false);
    expect(verifyStandard(body, { id: 'msg_1', timestamp: seconds, signature: good }, 'whsec_!!', now)).toEqual({
      ok: false,
      reason: 'the secret is not a Standard Webhooks secret (whsec_<base64>)',
    });
  });
});
