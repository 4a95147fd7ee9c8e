import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fileLines } from '../helpers/files.js';
import { killServers, send, STANDARD_SECRET, startServe, until } from '../helpers/serve.js';
import { CACHE_DIR, TRIG, type TrigResult } from '../helpers/trig.js';

// Approval channels end to end: the built bin/trig reaches a gate whose `uses:` is webhook,
// slack, email or jira, and notifies a real server this test starts on 127.0.0.1 (a node:http
// stand-in speaking each service's protocol, a real smtp-server). trig runs as a child
// process without blocking this one (the servers answer while it runs). Then the links:
// trig serve's confirmation page decides nothing; a POST with the right token does, once.

interface Place {
  dir: string;
  state: string;
  env: NodeJS.ProcessEnv;
}

const JIRA_TOKEN = 'jira-personal-access-token-for-tests';

/** defs/gated.yaml: build, an approval step `wait` using `uses` with `settings` under with:, then deploy and a stage after. */
function place(uses: string, settings: string[], env: NodeJS.ProcessEnv = {}): Place {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-channels-'));
  mkdirSync(path.join(dir, 'defs'));
  const touch = (name: string, file: string) => [`        - name: ${name}`, `          run: {shell: sh, script: echo ${name} >> ${file}}`];
  const yaml = [
    'pipeline:',
    '  name: gated',
    '  on: deploy',
    '  stages:',
    '    - name: release',
    '      steps:',
    ...touch('build', 'built.txt'),
    '        - name: wait',
    '          approval:',
    `            uses: ${uses}`,
    '            with:',
    '              message: "deploy <+trigger.environment>?"',
    ...settings.map((line) => `              ${line}`),
    ...touch('deploy', 'deployed.txt'),
    '    - name: after',
    '      steps:',
    ...touch('later', 'after.txt'),
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'defs', 'gated.yaml'), yaml);
  const state = path.join(dir, 'state');
  return { dir, state, env: { TRIG_STATE_DIR: state, TRIG_WEBHOOK_SECRET: STANDARD_SECRET, ...env } };
}

/** bin/trig as a child process, without blocking this process (whose servers must answer it). */
function trigAsync(p: Place, args: string[], input = ''): Promise<TrigResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TRIG, ...args], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TRIG_CACHE_DIR: CACHE_DIR, ...p.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const fire = (p: Place, environment = 'prod') =>
  trigAsync(p, ['fire', '--defs', 'defs', '--event', 'deploy', '--payload', '-'], JSON.stringify({ environment }));

interface GateJson {
  id: string;
  runId: string;
  notified: boolean;
  notification: string;
  delivery: { channel: string; state: string; attempts: number; lastError: string | null; deliveredAt: string | null } | null;
  approvals: { by: string; from: string }[];
}

async function gates(p: Place): Promise<GateJson[]> {
  const result = await trigAsync(p, ['approvals', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { gates: GateJson[] }).gates;
}

/** Fires; the run must stop at its gate. */
async function fireUntilGate(p: Place, environment = 'prod'): Promise<GateJson> {
  const fired = await fire(p, environment);
  expect(fired.code, fired.stderr + fired.stdout).toBe(0);
  const all = await gates(p);
  return all[all.length - 1]!;
}

/** Makes every waiting notification due now, as the passing of its backoff would (no test waits for a clock). */
function makeDue(p: Place): void {
  const db = new Database(path.join(p.state, 'trig.db'));
  try {
    db.prepare('UPDATE notifications SET next_at = 0 WHERE delivered_at IS NULL').run();
  } finally {
    db.close();
  }
}

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  killServers();
});
afterAll(() => killServers());

/** A node:http stand-in on 127.0.0.1: records each request and answers as `reply` says. */
async function standIn(reply: (request: Received, index: number) => { status: number; body?: string; type?: string }) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(request);
      const answer = reply(request, received.length - 1);
      res.writeHead(answer.status, { 'Content-Type': answer.type ?? 'application/json' });
      res.end(answer.body ?? '');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const LINK = (base: string, gate: string, verdict: string) =>
  new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/approvals/${gate}/${verdict}\\?token=[A-Za-z0-9_-]{43}$`);

describe('the webhook channel', () => {
  it('POSTs the gate signed with Standard Webhooks; a 500 is retried by the next look, and the gate waits meanwhile', async () => {
    const hook = await standIn((_request, index) => ({ status: index === 0 ? 500 : 204, body: index === 0 ? 'try later' : '' }));
    const p = place('webhook', [`url: ${hook.url}/hooks/approvals`, 'approvers: [ann, bob]'], {
      TRIG_PUBLIC_URL: 'http://127.0.0.1:8080/',
    });
    const gate = await fireUntilGate(p);
    expect(hook.received).toHaveLength(1);
    expect(gate.notified).toBe(false);
    expect(gate.delivery).toMatchObject({
      channel: 'webhook',
      state: 'failing',
      attempts: 1,
      lastError: 'the webhook answered HTTP 500: try later',
    });
    expect(gate.notification).toMatch(/^webhook: failing \(1 attempt, next \S+\): the webhook answered HTTP 500: try later$/);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual([]);

    // Not due yet: a look now sends nothing.
    await gates(p);
    expect(hook.received).toHaveLength(1);
    makeDue(p);
    const [after] = await gates(p);
    expect(hook.received).toHaveLength(2);
    expect(after!.delivery).toMatchObject({ state: 'delivered', attempts: 2, lastError: null });
    expect(after!.notified).toBe(true);
    expect(after!.notification).toMatch(/^webhook: delivered \S+ \(2 attempts\)$/);

    const verifier = new Webhook(STANDARD_SECRET);
    for (const request of hook.received) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/hooks/approvals');
      expect(request.headers['content-type']).toBe('application/json');
      // Throws unless the signature and timestamp are right.
      verifier.verify(request.body, request.headers as Record<string, string>);
      expect(request.headers['webhook-id']).toBe(`msg_${gate.id}`);
    }
    const payload = JSON.parse(hook.received[1]!.body);
    expect(payload).toMatchObject({
      type: 'approval.requested',
      data: {
        gate: gate.id,
        run: gate.runId,
        definition: 'gated',
        step: 'wait',
        message: 'deploy prod?',
        approvers: ['ann', 'bob'],
        commands: { approve: `trig approve ${gate.id}`, reject: `trig reject ${gate.id}` },
      },
    });
    expect(payload.data.links.map((l: { approver: string }) => l.approver)).toEqual(['ann', 'bob']);
    for (const link of payload.data.links) {
      expect(link.approve).toMatch(LINK('http://127.0.0.1:8080', gate.id, 'approve'));
      expect(link.reject).toMatch(LINK('http://127.0.0.1:8080', gate.id, 'reject'));
    }
    // Each approver's token is their own, and each attempt mints new ones.
    const tokens = [hook.received[0]!, hook.received[1]!].flatMap((r) =>
      JSON.parse(r.body).data.links.map((l: { approve: string }) => l.approve.split('token=')[1]),
    );
    expect(new Set(tokens).size).toBe(4);
    // Only hashes are stored.
    const db = new Database(path.join(p.state, 'trig.db'), { readonly: true });
    try {
      const stored = db.prepare('SELECT hash, name FROM approval_tokens').all() as { hash: string; name: string }[];
      expect(stored.map((s) => s.name).sort()).toEqual(['ann', 'ann', 'bob', 'bob']);
      for (const token of tokens) expect(JSON.stringify(stored)).not.toContain(token);
    } finally {
      db.close();
    }
  });

  it('a channel that keeps failing is reported, and never decides the gate: trig approve still does', async () => {
    // Nothing listens on the discard port of this machine: every attempt is refused.
    const p = place('slack', ['url: http://127.0.0.1:9/services/T0/B0/secretpart']);
    const gate = await fireUntilGate(p);
    expect(gate.delivery).toMatchObject({ channel: 'slack', state: 'failing', attempts: 1 });
    expect(gate.delivery!.lastError).toMatch(/^cannot reach the server/);
    // The URL (a Slack webhook's is a secret) is never in what trig says.
    expect(JSON.stringify(gate)).not.toContain('secretpart');
    const listed = await trigAsync(p, ['approvals']);
    expect(listed.stdout).toMatch(/slack: failing \(1 attempt, next \S+\): cannot reach the server/);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual([]);
    const approved = await trigAsync(p, ['approve', gate.id, '--as', 'ann']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deploy']);
    expect(fileLines(p.dir, 'after.txt')).toEqual(['later']);
  });
});

describe('the slack channel', () => {
  it('posts an incoming-webhook message: text, and blocks with the message, the run and each approver’s buttons', async () => {
    const slack = await standIn(() => ({ status: 200, body: 'ok', type: 'text/plain' }));
    const p = place('slack', [`url: ${slack.url}/services/T000/B000/XXXX`, 'channel: "#releases"', 'approvers: [ann, "<b>bob</b>"]'], {
      TRIG_PUBLIC_URL: 'https://trig.example.test',
    });
    const gate = await fireUntilGate(p);
    expect(gate.delivery).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(slack.received).toHaveLength(1);
    const [request] = slack.received;
    expect([request!.method, request!.url, request!.headers['content-type']]).toEqual([
      'POST',
      '/services/T000/B000/XXXX',
      'application/json',
    ]);
    const message = JSON.parse(request!.body);
    expect(Object.keys(message).sort()).toEqual(['blocks', 'channel', 'text']);
    expect(message.channel).toBe('#releases');
    expect(message.text).toBe(`Approval needed: deploy prod? (gated, gate ${gate.id})`);
    const [section, context, ...actions] = message.blocks;
    expect(section).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Approval needed:* deploy prod?' } });
    expect(context.type).toBe('context');
    expect(context.elements[0].text).toContain(`run \`${gate.runId}\``);
    expect(context.elements[0].text).toContain('Definition *gated*');
    expect(actions).toHaveLength(2);
    const labels = actions.map((a: { elements: { text: { text: string } }[] }) => a.elements.map((e) => e.text.text));
    // A button's label is plain_text: Slack shows it as written.
    expect(labels).toEqual([
      ['Approve as ann', 'Reject as ann'],
      ['Approve as <b>bob</b>', 'Reject as <b>bob</b>'],
    ]);
    for (const action of actions) {
      expect(action.type).toBe('actions');
      expect(action.elements.map((e: { style: string }) => e.style)).toEqual(['primary', 'danger']);
      expect(action.elements[0].url).toMatch(LINK('https://trig.example.test', gate.id, 'approve'));
      expect(action.elements[1].url).toMatch(LINK('https://trig.example.test', gate.id, 'reject'));
    }
  });

  it('without TRIG_PUBLIC_URL, gives the commands instead of links, and says why', async () => {
    const slack = await standIn(() => ({ status: 200, body: 'ok', type: 'text/plain' }));
    const p = place('slack', [`url: ${slack.url}/hook`]);
    const gate = await fireUntilGate(p);
    const message = JSON.parse(slack.received[0]!.body);
    expect(JSON.stringify(message)).not.toContain('/approvals/');
    expect(message.blocks.at(-1).text.text).toBe(
      `No links (TRIG_PUBLIC_URL is not set): decide with \`trig approve ${gate.id} --as NAME\` or \`trig reject ${gate.id} --as NAME\``,
    );
  });
});

/** Quoted-printable, as nodemailer writes long lines: soft breaks and =XX escapes undone. */
function unquote(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

describe('the email channel', () => {
  it('mails the recipients through SMTP (a real smtp-server): subject, and the links in the body', async () => {
    const mails: { from: string; to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    try {
      const p = place('email', ['to: [ann@example.test, ops@example.test]', 'from: trig@example.test', 'approvers: [ann]'], {
        TRIG_SMTP_URL: `smtp://127.0.0.1:${port}`,
        TRIG_PUBLIC_URL: 'http://127.0.0.1:8080',
      });
      const gate = await fireUntilGate(p);
      expect(gate.delivery, gate.notification).toMatchObject({ channel: 'email', state: 'delivered', attempts: 1 });
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail!.from).toBe('trig@example.test');
      expect(mail!.to).toEqual(['ann@example.test', 'ops@example.test']);
      const [head, ...rest] = mail!.data.split('\r\n\r\n');
      expect(head).toContain(`Subject: Approval needed: gated (gate ${gate.id})`);
      expect(head).toContain('To: ann@example.test, ops@example.test');
      const body = unquote(rest.join('\r\n\r\n'));
      expect(body).toContain('deploy prod?');
      expect(body).toContain(`Run: ${gate.runId}, event deploy, waiting at wait`);
      expect(body).toContain('For ann only:');
      const links = [...body.matchAll(/(Approve|Reject): +(\S+)/g)].map((m) => [m[1], m[2]]);
      expect(links).toHaveLength(2);
      expect(links[0]![1]).toMatch(LINK('http://127.0.0.1:8080', gate.id, 'approve'));
      expect(links[1]![1]).toMatch(LINK('http://127.0.0.1:8080', gate.id, 'reject'));
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});

describe('the jira channel', () => {
  it('creates an issue through POST /rest/api/2/issue with a Bearer token from a TRIG_SECRET_* reference', async () => {
    const jira = await standIn(() => ({
      status: 201,
      body: JSON.stringify({ id: '10000', key: 'REL-24', self: 'http://jira/rest/api/2/issue/10000' }),
    }));
    const p = place('jira', [`url: ${jira.url}/`, 'project: REL', 'issue-type: Approval', 'token: account.jira_token'], {
      TRIG_SECRET_JIRA_TOKEN: JIRA_TOKEN,
    });
    const gate = await fireUntilGate(p);
    expect(gate.delivery, gate.notification).toMatchObject({ channel: 'jira', state: 'delivered', attempts: 1 });
    expect(jira.received).toHaveLength(1);
    const [request] = jira.received;
    expect([request!.method, request!.url]).toEqual(['POST', '/rest/api/2/issue']);
    expect(request!.headers.authorization).toBe(`Bearer ${JIRA_TOKEN}`);
    expect(request!.headers['content-type']).toBe('application/json');
    const issue = JSON.parse(request!.body);
    expect(Object.keys(issue)).toEqual(['fields']);
    expect(issue.fields).toMatchObject({
      project: { key: 'REL' },
      summary: 'Approve gated: deploy prod?',
      issuetype: { name: 'Approval' },
    });
    expect(issue.fields.description).toContain('deploy prod?');
    expect(issue.fields.description).toContain(`trig approve ${gate.id} --as NAME`);
  });

  it('a refusal by Jira is reported with its status, the token masked', async () => {
    const jira = await standIn(() => ({ status: 401, body: `{"errorMessages":["bad token ${JIRA_TOKEN}"]}` }));
    const p = place('jira', ['project: REL'], { TRIG_JIRA_URL: jira.url, TRIG_JIRA_TOKEN: JIRA_TOKEN });
    const gate = await fireUntilGate(p);
    expect(jira.received[0]!.headers.authorization).toBe(`Bearer ${JIRA_TOKEN}`);
    expect(gate.delivery!.lastError).toBe('Jira answered HTTP 401: {"errorMessages":["bad token ***"]}');
  });
});

describe('approval links through trig serve', () => {
  /** trig serve for the place, and a webhook stand-in that keeps the links each notification carries. */
  async function served(settings: string[]) {
    const hook = await standIn(() => ({ status: 204 }));
    const p = place('webhook', [`url: ${hook.url}/hook`, ...settings]);
    const server = await startServe(['--defs', 'defs'], { cwd: p.dir, env: p.env });
    p.env.TRIG_PUBLIC_URL = server.url;
    /** The links of the latest notification, by approver. */
    const links = () => {
      const data = JSON.parse(hook.received.at(-1)!.body).data as { links: { approver: string | null; approve: string; reject: string }[] };
      return Object.fromEntries(data.links.map((l) => [l.approver ?? '*', l]));
    };
    return { p, server, links };
  }

  const form = (fields: Record<string, string>) => ({
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

  it('GET shows a confirmation and decides nothing; POST with each approver’s token decides; the run goes on once, in serve', async () => {
    const { p, links } = await served(['approvers: [ann, bob]', 'min-approvers: 2']);
    const gate = await fireUntilGate(p);
    const { ann, bob } = links();

    const page = await send(ann!.approve, { method: 'GET' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.body).toContain(`Approve gate ${gate.id}?`);
    expect(page.body).toContain('deploy prod?');
    expect(page.body).toContain(gate.runId);
    expect(page.body).toContain('<form method="post">');
    expect(page.body).toContain(`name="token" value="${tokenOf(ann!.approve)}"`);
    // A second look (a chat's link preview, then the person) still decides nothing.
    expect((await send(ann!.approve, { method: 'GET' })).status).toBe(200);
    expect((await gates(p))[0]!.approvals).toEqual([]);

    // Forged: a token of the right shape that was never minted.
    const forged = await send(ann!.approve, { method: 'POST', ...form({ token: 'A'.repeat(43) }) });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain(`this link&#39;s token is not valid for gate ${gate.id}`);
    expect((await send(`${ann!.approve.split('?')[0]}?token=nope`, { method: 'GET' })).status).toBe(403);

    const first = await send(ann!.approve, { method: 'POST', ...form({ token: tokenOf(ann!.approve), comment: 'ok <b>' }) });
    expect(first.status).toBe(200);
    expect(first.body).toContain(`Approved gate ${gate.id} as ann`);
    expect(first.body).toContain('1 of 2 approvals: the run still waits.');
    // Reused: ann's link again, to approve or to reject.
    const reused = await send(ann!.approve, { method: 'POST', ...form({ token: tokenOf(ann!.approve) }) });
    expect(reused.status).toBe(403);
    expect(reused.body).toContain('this link was used already: ann has decided gate');
    expect((await send(ann!.reject, { method: 'POST', ...form({ token: tokenOf(ann!.reject) }) })).status).toBe(403);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual([]);

    const last = await send(bob!.approve, { method: 'POST', ...form({ token: tokenOf(bob!.approve) }) });
    expect(last.status).toBe(200);
    expect(last.body).toContain(`Approved gate ${gate.id} as bob`);
    expect(last.body).toContain('The run goes on');
    await until('the run to be carried on by trig serve', () => fileLines(p.dir, 'after.txt').length > 0);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deploy']);
    expect(fileLines(p.dir, 'after.txt')).toEqual(['later']);
    expect(fileLines(p.dir, 'built.txt')).toEqual(['build']);

    // Decided: any link of it answers 409; an unknown gate 404.
    expect((await send(bob!.reject, { method: 'POST', ...form({ token: tokenOf(bob!.reject) }) })).status).toBe(409);
    expect((await send(bob!.approve.replace(gate.id, 'abcabcabcabc'), { method: 'GET' })).status).toBe(404);
    const runs = JSON.parse((await trigAsync(p, ['runs', '--defs', 'defs', '--json'])).stdout).runs;
    expect(runs.map((r: { status: string }) => r.status)).toEqual(['succeeded']);
    expect(runs[0].steps.find((s: { name: string }) => s.name === 'wait').reason).toBe('approved by ann (ok <b>), bob');
  });

  it('a token for gate A is refused on gate B; the anyone-token asks for a name, and one name counts once', async () => {
    const { p, links } = await served(['min-approvers: 2']);
    const a = await fireUntilGate(p, 'a');
    const aLinks = links();
    const b = await fireUntilGate(p, 'b');
    const bLinks = links();
    expect(a.id).not.toBe(b.id);
    const aToken = tokenOf(aLinks['*']!.approve);
    const onB = bLinks['*']!.approve.replace(tokenOf(bLinks['*']!.approve), aToken);
    expect((await send(onB, { method: 'GET' })).status).toBe(403);
    expect((await send(onB, { method: 'POST', ...form({ token: aToken, name: 'carol' }) })).status).toBe(403);

    const page = await send(aLinks['*']!.approve, { method: 'GET' });
    expect(page.body).toContain('<input type="text" name="name" required');
    const nameless = await send(aLinks['*']!.approve, { method: 'POST', ...form({ token: aToken }) });
    expect(nameless.status).toBe(400);
    expect((await send(aLinks['*']!.approve, { method: 'POST', ...form({ token: aToken, name: 'carol' }) })).status).toBe(200);
    const again = await send(aLinks['*']!.approve, { method: 'POST', ...form({ token: aToken, name: ' carol ' }) });
    expect(again.status).toBe(403);
    expect(again.body).toContain('&quot;carol&quot; has decided gate');
    const rejected = await send(aLinks['*']!.reject, { method: 'POST', ...form({ token: tokenOf(aLinks['*']!.reject), name: 'dave' }) });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toContain('ends rejected');
    const listed = await gates(p);
    expect(listed.map((g) => g.id)).toEqual([b.id]);
    const db = new Database(path.join(p.state, 'trig.db'), { readonly: true });
    try {
      const decisions = JSON.parse(db.prepare('SELECT decisions FROM gates WHERE id = ?').pluck().get(a.id) as string);
      expect(decisions.map((d: { by: string; from: string; verdict: string }) => [d.by, d.from, d.verdict])).toEqual([
        ['carol', 'http', 'approve'],
        ['dave', 'http', 'reject'],
      ]);
    } finally {
      db.close();
    }
    expect(fileLines(p.dir, 'deployed.txt')).toEqual([]);
  });
});
