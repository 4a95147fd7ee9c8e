// The sender's tools: `trig sign` (the headers for curl) and `trig fire --verify` (trig's own
// check for users with an HTTP front of their own), on GitHub's example deliveries.

import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { shellDefinition } from '../helpers/definition.js';
import { GITHUB_SECRET, githubExample, LINEAR_SECRET, lines } from '../helpers/serve.js';
import { ROOT, trig } from '../helpers/trig.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trig-serve-tools-'));
mkdirSync(path.join(dir, '.harness'));
writeFileSync(path.join(dir, '.harness', 'onpush.yaml'), shellDefinition('onpush', ['- push'], ['echo "<+trigger.commitSha>" >> ran.log']));
const payload = githubExample('push');
payload.after = 'verified1';
const body = JSON.stringify(payload);
const file = path.join(dir, 'push.json');
writeFileSync(file, body);
const env = { TRIG_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET };
const githubSignature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;

describe('trig sign', () => {
  it("prints curl's -H lines with GitHub's signature of the file's exact bytes", () => {
    const r = trig(['sign', '--route', 'github', '--event', 'push', '--id', 'abc-1', file], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "-H 'Content-Type: application/json'",
        "-H 'X-GitHub-Event: push'",
        "-H 'X-GitHub-Delivery: abc-1'",
        `-H 'X-Hub-Signature-256: ${githubSignature}'`,
        '',
      ].join('\n'),
    );
  });

  it('--json follows schemas/sign-output.schema.json; Linear signs with the hex HMAC', () => {
    const r = trig(['sign', '--route', 'linear', '--id', 'lin-9', '--json', '-'], {
      env: { TRIG_LINEAR_WEBHOOK_SECRET: LINEAR_SECRET },
      input: body,
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    expect(ajv.validate(JSON.parse(readFileSync(path.join(ROOT, 'schemas/sign-output.schema.json'), 'utf8')), out)).toBe(true);
    expect(out).toEqual({
      route: 'linear',
      path: '/linear',
      id: 'lin-9',
      headers: {
        'Content-Type': 'application/json',
        'Linear-Delivery': 'lin-9',
        'Linear-Signature': createHmac('sha256', LINEAR_SECRET).update(body).digest('hex'),
      },
    });
  });

  it('says what is missing in one line, exit 2', () => {
    expect(trig(['sign', '--route', 'github', '--event', 'push', file], { env: { TRIG_GITHUB_WEBHOOK_SECRET: '' } })).toMatchObject({
      code: 2,
      stderr: 'trig: TRIG_GITHUB_WEBHOOK_SECRET is not set: it holds the secret to sign with\n',
    });
    expect(trig(['sign', '--route', 'github', file], { env })).toMatchObject({
      code: 2,
      stderr: 'trig: --route github needs --event (the X-GitHub-Event header: push, issue_comment, …)\n',
    });
    expect(trig(['sign', '--route', 'standard', '--secret-env', 'MY_SECRET', file], { env: { MY_SECRET: 'not base64!' } })).toMatchObject({
      code: 2,
      stderr: 'trig: the secret is not a Standard Webhooks secret (whsec_ followed by base64)\n',
    });
  });
});

describe('trig fire --verify', () => {
  it('fires a delivery whose signature matches, once per delivery id; a tampered one fires nothing (exit 1)', () => {
    const args = [
      'fire',
      '--event',
      'push',
      '--payload',
      '-',
      '--verify',
      'github',
      '--signature',
      githubSignature,
      '--delivery-id',
      'cgi-1',
    ];
    const first = trig(args, { cwd: dir, env, input: body });
    expect(first.code, first.stderr).toBe(0);
    expect(lines(path.join(dir, 'ran.log'))).toEqual(['verified1']);
    const again = trig(args, { cwd: dir, env, input: body });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^duplicate delivery cgi-1: already handled as event [0-9a-f]{12}\n$/);

    const tampered = trig([...args.slice(0, -1), 'cgi-2'], { cwd: dir, env, input: body.replace('verified1', 'verified2') });
    expect(tampered).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'trig: --verify github: X-Hub-Signature-256 does not match the body; nothing fired\n',
    });
    expect(trig(args, { cwd: dir, env: { TRIG_GITHUB_WEBHOOK_SECRET: '' }, input: body })).toMatchObject({
      code: 2,
      stderr: 'trig: --verify github: TRIG_GITHUB_WEBHOOK_SECRET is not set\n',
    });
    expect(lines(path.join(dir, 'ran.log'))).toEqual(['verified1']);
  });
});

describe('trig serve-runner', () => {
  it('is trig serve’s own run thread: refused when run as a command (exit 2, one line), and not listed in --help', () => {
    const r = trig(['serve-runner']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('trig: serve-runner is the run thread of trig serve; run `trig serve`\n');
    expect(r.stdout).toBe('');
    expect(trig(['--help']).stdout).not.toContain('serve-runner');
  });
});
