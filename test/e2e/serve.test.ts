// trig serve, end to end: the built bin/trig listening on a free loopback port, real HTTP
// requests built from GitHub's own example deliveries (@octokit/webhooks-examples), Linear
// deliveries as Linear documents them, and Standard Webhooks signed by the standardwebhooks
// package (an independent implementation). Runs append to files; exactly-once is read
// from those files and from the store.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellDefinition } from '../helpers/definition.js';
import {
  GITHUB_SECRET,
  githubExample,
  githubHeaders,
  killServers,
  LINEAR_SECRET,
  linearHeaders,
  lines,
  SECRETS_ENV,
  send,
  STANDARD_SECRET,
  startServe,
  until,
  type Serving,
} from '../helpers/serve.js';
import { trig } from '../helpers/trig.js';

let dir: string;
let server: Serving;

function workspace(): string {
  const base = mkdtempSync(path.join(tmpdir(), 'trig-serve-'));
  mkdirSync(path.join(base, '.harness'));
  const def = (name: string, on: string[], line: string) =>
    writeFileSync(path.join(base, '.harness', `${name}.yaml`), shellDefinition(name, on, [`echo "${line}" >> ${name}.log`]));
  def('onpush', ['- push:', '    branches: [main, master, simple-tag, changes]'], '<+trigger.commitSha> <+trigger.branch>');
  def('mention', ['- comment_mention:', '    agents: [codereview]'], '<+trigger.mentionedAgent> <+trigger.action>');
  def('failed', ['- pipeline_failed'], '<+trigger.executionId> <+trigger.repo>');
  return base;
}

beforeAll(async () => {
  dir = workspace();
  server = await startServe(['--request-timeout', '2s', '--max-body', '64KiB'], { cwd: dir, env: SECRETS_ENV });
});
afterAll(() => killServers());

const pushBody = (after: string) => {
  const payload = githubExample('push', (p) => p.ref === 'refs/heads/main' || p.ref === 'refs/heads/master');
  payload.after = after;
  return JSON.stringify(payload);
};

const history = () => JSON.parse(trig(['history', '--all', '--json', '--limit', '1000']).stdout) as { events: Record<string, any>[] };

describe('POST /github', () => {
  it('a signed delivery is acknowledged (202) once stored, then runs once; its redelivery answers 200 duplicate and runs nothing', async () => {
    const body = pushBody('a1');
    const reply = await send(`${server.url}/github`, { headers: githubHeaders('push', 'gh-1', body), body });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ event: expect.stringMatching(/^[0-9a-f]{12}$/), delivery: 'gh-1', status: 'queued' });
    const again = await send(`${server.url}/github`, { headers: githubHeaders('push', 'gh-1', body), body });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ duplicate: true, event: reply.body.event });

    await until(
      'the run',
      () => lines(path.join(dir, 'onpush.log')).includes('a1 main') || lines(path.join(dir, 'onpush.log')).includes('a1 master'),
    );
    const fired = await until('its fired line', () => server.logLines().find((l) => l.kind === 'fired' && l.delivery === 'gh-1'));
    expect(fired).toMatchObject({ route: 'github', event: 'push', eventId: reply.body.event, matched: 1, runs: [expect.any(String)] });
    const run = server.logLines().find((l) => l.kind === 'run' && l.delivery === 'gh-1');
    expect(run).toMatchObject({ definition: 'onpush', status: 'succeeded', run: fired.runs[0] });
    expect(lines(path.join(dir, 'onpush.log')).filter((l) => l.startsWith('a1 '))).toHaveLength(1);

    const stored = history().events.filter((e) => e.deliveryKey === 'gh-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: reply.body.event, source: 'http', name: 'push', decided: true });
    // The log says what happened, never the secret or the body.
    expect(server.stderr()).not.toContain(GITHUB_SECRET);
    expect(server.stderr()).not.toContain('"commits"');
    const delivery = await until('both delivery lines', () => {
      const found = server.logLines().filter((l) => l.kind === 'delivery' && l.delivery === 'gh-1');
      return found.length === 2 && found;
    });
    expect(delivery.map((l) => [l.status, l.result, l.remote])).toEqual([
      [202, 'queued', '127.0.0.1'],
      [200, 'duplicate', '127.0.0.1'],
    ]);
  });

  it('a changed byte in the body or the signature, or no signature, is refused with 401 and nothing is stored', async () => {
    const body = pushBody('t1');
    const headers = githubHeaders('push', 'gh-tampered', body);
    const tamperedBody = body.replace('"t1"', '"t2"');
    const sig = headers['X-Hub-Signature-256']!;
    const tamperedSig = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    const { 'X-Hub-Signature-256': _, ...unsigned } = headers;
    for (const [h, b] of [
      [headers, tamperedBody],
      [{ ...headers, 'X-Hub-Signature-256': tamperedSig }, body],
      [unsigned, body],
      [githubHeaders('push', 'gh-tampered', body, 'another secret'), body],
    ] as const) {
      const reply = await send(`${server.url}/github`, { headers: h, body: b });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ error: 'bad or missing signature' });
    }
    expect(history().events.filter((e) => e.deliveryKey === 'gh-tampered')).toEqual([]);
    const refused = server.logLines().filter((l) => l.kind === 'delivery' && l.status === 401);
    expect(refused.map((l) => l.result)).toEqual(
      expect.arrayContaining(['X-Hub-Signature-256 does not match the body', 'missing X-Hub-Signature-256 header']),
    );
    expect(refused.every((l) => l.remote === '127.0.0.1')).toBe(true);
  });

  it('missing delivery or event headers are 400 (after the signature is checked)', async () => {
    const body = pushBody('m1');
    const { 'X-GitHub-Delivery': _, ...noDelivery } = githubHeaders('push', 'x', body);
    const { 'X-GitHub-Event': __, ...noEvent } = githubHeaders('push', 'gh-noevent', body);
    expect(await send(`${server.url}/github`, { headers: noDelivery, body })).toMatchObject({
      status: 400,
      body: { error: 'missing X-GitHub-Delivery header' },
    });
    expect(await send(`${server.url}/github`, { headers: noEvent, body })).toMatchObject({
      status: 400,
      body: { error: 'missing X-GitHub-Event header' },
    });
    const bad = '{"ref": ';
    const malformed = await send(`${server.url}/github`, { headers: githubHeaders('push', 'gh-bad', bad), body: bad });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^body(:1:\d+)?: invalid JSON: /);
  });

  it('a form-encoded delivery (payload=) is verified on its raw bytes and runs', async () => {
    const form = `payload=${encodeURIComponent(pushBody('f1'))}`;
    const headers = { ...githubHeaders('push', 'gh-form', form), 'Content-Type': 'application/x-www-form-urlencoded' };
    const reply = await send(`${server.url}/github`, { headers, body: form });
    expect(reply).toMatchObject({ status: 202, body: { delivery: 'gh-form', status: 'queued' } });
    await until('the run', () => lines(path.join(dir, 'onpush.log')).some((l) => l.startsWith('f1 ')));
  });

  it('ping answers 200 and stores nothing; an event outside the catalog answers 200 ignored', async () => {
    const ping = JSON.stringify(githubExample('ping'));
    expect(await send(`${server.url}/github`, { headers: githubHeaders('ping', 'gh-ping', ping), body: ping })).toMatchObject({
      status: 200,
      body: { ping: true },
    });
    const star = JSON.stringify(githubExample('star'));
    expect(await send(`${server.url}/github`, { headers: githubHeaders('star', 'gh-star', star), body: star })).toMatchObject({
      status: 200,
      body: { ignored: true, reason: 'no definition can listen to "star" (not in the event list)' },
    });
    expect(history().events.filter((e) => e.deliveryKey === 'gh-ping' || e.deliveryKey === 'gh-star')).toEqual([]);
  });

  it('an issue comment that mentions @codereview starts the comment_mention definition', async () => {
    const payload = githubExample('issue_comment', (p) => p.action === 'created');
    payload.comment.body = 'Could @codereview have a look?';
    const body = JSON.stringify(payload);
    expect((await send(`${server.url}/github`, { headers: githubHeaders('issue_comment', 'gh-comment', body), body })).status).toBe(202);
    await until('the mention run', () => lines(path.join(dir, 'mention.log')).includes('codereview created'));
  });
});

describe('answers', () => {
  it('404 with did-you-mean, 405, 415, 413', async () => {
    expect(await send(`${server.url}/githu`, { body: '{}' })).toMatchObject({
      status: 404,
      body: { error: 'no route /githu; did you mean /github? (routes: /github, /linear, /events/<event>, /healthz)' },
    });
    expect(await send(`${server.url}/events/pipeline_faild`, { body: '{}' })).toMatchObject({
      status: 404,
      body: { error: 'unknown event "pipeline_faild"; did you mean "pipeline_failed"? (see the event list in the README)' },
    });
    const get = await send(`${server.url}/github`, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await send(`${server.url}/github`, { headers: { 'Content-Type': 'text/plain' }, body: 'hi' })).toMatchObject({
      status: 415,
      body: { error: 'Content-Type text/plain: /github takes application/json or application/x-www-form-urlencoded' },
    });
    const big = JSON.stringify({ pad: 'x'.repeat(65 * 1024) });
    expect(await send(`${server.url}/github`, { headers: githubHeaders('push', 'gh-big', big), body: big })).toMatchObject({
      status: 413,
      body: { error: `the body is larger than ${64 * 1024} bytes` },
    });
  });

  it('GET /healthz says the queue and the store', async () => {
    const reply = await send(`${server.url}/healthz`, { method: 'GET' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'ok',
      queue: { waiting: expect.any(Number), running: expect.any(Number), limit: 1000 },
      store: 'ok',
    });
  });

  it('a slow client is cut off by the request timeout while others are served', async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a"');
    // Meanwhile others are answered.
    expect((await send(`${server.url}/healthz`, { method: 'GET' })).status).toBe(200);
    await until('the slow client to be cut off', () => closed);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('POST /linear', () => {
  const comment = (body: string, at = Date.now()) => ({
    action: 'create',
    type: 'Comment',
    createdAt: new Date(at).toISOString(),
    data: { id: 'c-1', body, issueId: 'i-1', issue: { id: 'i-1', identifier: 'ENG-7', title: 'A bug' }, userId: 'u-1' },
    actor: { id: 'u-1', name: 'Ada', type: 'user' },
    url: 'https://linear.app/acme/issue/ENG-7#comment-c-1',
    organizationId: 'o-1',
    webhookTimestamp: at,
    webhookId: 'w-1',
  });

  it('a comment that mentions @codereview is a comment_mention; other Linear events are recorded and start nothing', async () => {
    const body = JSON.stringify(comment('Hey @codereview, thoughts?'));
    const reply = await send(`${server.url}/linear`, { headers: linearHeaders('lin-1', body), body });
    expect(reply).toMatchObject({ status: 202, body: { delivery: 'lin-1', status: 'queued' } });
    await until(
      'the mention run',
      () => lines(path.join(dir, 'mention.log')).filter((l) => l === 'codereview created').length === 2 || undefined,
    );

    const issue = JSON.stringify({ ...comment('x'), type: 'Issue', data: { id: 'i-2', title: 'New issue' } });
    const recorded = await send(`${server.url}/linear`, { headers: linearHeaders('lin-2', issue), body: issue });
    expect(recorded).toMatchObject({ status: 202, body: { delivery: 'lin-2', status: 'recorded' } });
    const event = history().events.find((e) => e.deliveryKey === 'lin-2');
    expect(event).toMatchObject({ name: 'linear', source: 'http', decided: true, decisions: [] });
  });

  it('a bad signature or a webhookTimestamp more than 60 s off is 401', async () => {
    const stale = JSON.stringify(comment('@codereview', Date.now() - 120_000));
    expect(await send(`${server.url}/linear`, { headers: linearHeaders('lin-3', stale), body: stale })).toMatchObject({
      status: 401,
      body: { error: 'webhookTimestamp is more than 60 s away from now' },
    });
    const body = JSON.stringify(comment('@codereview'));
    expect((await send(`${server.url}/linear`, { headers: linearHeaders('lin-4', body, `${LINEAR_SECRET}!`), body })).status).toBe(401);
    expect(history().events.filter((e) => e.deliveryKey === 'lin-3' || e.deliveryKey === 'lin-4')).toEqual([]);
  });
});

describe('POST /events/<event> (Standard Webhooks)', () => {
  const webhook = new Webhook(STANDARD_SECRET);
  const signed = (id: string, body: string, at = new Date()) => ({
    'Content-Type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhook.sign(id, at, body),
  });

  it('a delivery signed by the standardwebhooks package runs the flat payload; its redelivery is a duplicate', async () => {
    const body = JSON.stringify({ repo: 'acme/api', branch: 'main', executionId: 'ex-1', pipeline: 'build' });
    const reply = await send(`${server.url}/events/pipeline_failed`, { headers: signed('sw-1', body), body });
    expect(reply).toMatchObject({ status: 202, body: { delivery: 'sw-1', status: 'queued' } });
    expect(await send(`${server.url}/events/pipeline_failed`, { headers: signed('sw-1', body), body })).toEqual(
      expect.objectContaining({ status: 200, body: { duplicate: true, event: reply.body.event } }),
    );
    await until('the run', () => lines(path.join(dir, 'failed.log')).includes('ex-1 acme/api'));
  });

  it('a timestamp more than 5 minutes off, or a signature of another id, is 401', async () => {
    const body = JSON.stringify({ executionId: 'ex-2' });
    const old = new Date(Date.now() - 6 * 60_000);
    expect((await send(`${server.url}/events/pipeline_failed`, { headers: signed('sw-2', body, old), body })).status).toBe(401);
    const other = { ...signed('sw-other', body), 'webhook-id': 'sw-3' };
    expect((await send(`${server.url}/events/pipeline_failed`, { headers: other, body })).status).toBe(401);
  });

  it("trig sign's headers pass the standardwebhooks package's own verification, and trig serve's", async () => {
    const file = path.join(dir, 'payload.json');
    const body = JSON.stringify({ executionId: 'ex-signed', repo: 'acme/web' });
    writeFileSync(file, body);
    const result = trig(['sign', '--route', 'standard', '--event', 'pipeline_failed', '--id', 'sw-signed', '--json', file], {
      env: { TRIG_WEBHOOK_SECRET: STANDARD_SECRET },
    });
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ route: 'standard', path: '/events/pipeline_failed', id: 'sw-signed' });
    expect(webhook.verify(body, out.headers)).toEqual(JSON.parse(body));
    expect((await send(`${server.url}${out.path}`, { headers: out.headers, body })).status).toBe(202);
    await until('the run', () => lines(path.join(dir, 'failed.log')).includes('ex-signed acme/web'));
  });
});

describe('routes without a secret', () => {
  it('refuse every request (401) and say so at start; --allow-unsigned lets one in, loudly', async () => {
    const base = workspace();
    const bare = await startServe(['--allow-unsigned', 'standard'], {
      cwd: base,
      env: { TRIG_GITHUB_WEBHOOK_SECRET: '', TRIG_LINEAR_WEBHOOK_SECRET: '', TRIG_WEBHOOK_SECRET: '' },
    });
    const warnings = [
      'trig: warning: TRIG_GITHUB_WEBHOOK_SECRET is not set: /github refuses every request (401)',
      'trig: warning: TRIG_LINEAR_WEBHOOK_SECRET is not set: /linear refuses every request (401)',
      'trig: warning: /events/<event> takes UNSIGNED requests (--allow-unsigned standard): anyone who can reach it can start runs',
    ];
    // Said right after the listening line, which may reach the test first.
    await until('the start-up warnings', () => warnings.every((w) => bare.stderr().includes(w)));
    const body = pushBody('u1');
    expect((await send(`${bare.url}/github`, { headers: githubHeaders('push', 'gh-u', body), body })).status).toBe(401);
    const flat = JSON.stringify({ executionId: 'ex-unsigned', repo: 'r' });
    const reply = await send(`${bare.url}/events/pipeline_failed`, {
      headers: { 'Content-Type': 'application/json', 'webhook-id': 'u-1' },
      body: flat,
    });
    expect(reply.status).toBe(202);
    await until('the run', () => lines(path.join(base, 'failed.log')).includes('ex-unsigned r'));
    bare.child.kill('SIGTERM');
    expect(await bare.exited).toBe(0);
  });
});
