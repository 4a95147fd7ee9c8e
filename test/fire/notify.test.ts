import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs, CHANNELS, mintToken, tokenHash } from '../../src/fire/notify/index.js';
import { expectSuccess, httpUrl, NotifyError, postJson, RESPONSE_LIMIT } from '../../src/fire/notify/http.js';
import { jiraIssue } from '../../src/fire/notify/jira.js';
import { gateNotice, linksFor, publicBase } from '../../src/fire/notify/notice.js';
import { slackEscape, slackPayload } from '../../src/fire/notify/slack.js';
import { recipients } from '../../src/fire/notify/email.js';
import { channelSecret } from '../../src/fire/notify/secret.js';
import { escapeHtml } from '../../src/shared/html.js';
import type { StoredGate } from '../../src/store/store.js';

// The channels' logic without a network: what each one sends, how failures read, and the
// bounds on what trig reads back (one local server for those).

const GATE: StoredGate = {
  id: 'abcdef012345',
  runId: '0123456789ab',
  definition: 'release',
  file: '/defs/release.yaml',
  eventName: 'deploy',
  step: 'wait',
  message: 'ship <main> & tag?',
  settings: { uses: 'slack', timeout: '1h', timeoutAction: 'reject', minApprovers: 1, approvers: ['ann'] },
  deadline: new Date('2030-01-02T03:04:05Z'),
  createdAt: new Date('2030-01-02T02:04:05Z'),
  decisions: [],
  outcome: null,
  runStatus: 'awaiting_approval',
  notification: null,
};

describe('the notice every channel sends', () => {
  it('has links per approver under TRIG_PUBLIC_URL, else the commands and why there are no links', () => {
    expect(publicBase({ TRIG_PUBLIC_URL: 'http://127.0.0.1:8080/' })).toBe('http://127.0.0.1:8080');
    expect(publicBase({ TRIG_PUBLIC_URL: 'javascript:alert(1)' })).toBeUndefined();
    expect(publicBase({ TRIG_PUBLIC_URL: 'not a url' })).toBeUndefined();
    expect(publicBase({})).toBeUndefined();
    const links = [linksFor('https://t.example.test', GATE.id, 'ann', 'tok+/=')];
    expect(links[0]).toEqual({
      approver: 'ann',
      approve: `https://t.example.test/approvals/${GATE.id}/approve?token=tok%2B%2F%3D`,
      reject: `https://t.example.test/approvals/${GATE.id}/reject?token=tok%2B%2F%3D`,
    });
    const linked = gateNotice(GATE, links);
    expect(linked.text).toContain('For ann only:\n  Approve: https://t.example.test/approvals/');
    expect(linked.subject).toBe(`Approval needed: release (gate ${GATE.id})`);
    const plain = gateNotice(GATE, []);
    expect(plain.text).toContain(`No links: TRIG_PUBLIC_URL is not set where trig sent this.`);
    expect(plain.text).toContain(`  trig approve ${GATE.id} --as NAME\n  trig reject ${GATE.id} --as NAME`);
  });

  it('puts a message with a line break on one line (a mail subject or header cannot be split)', () => {
    const notice = gateNotice({ ...GATE, definition: 'rel\r\nBcc: x@example.test' }, []);
    expect(notice.subject).not.toMatch(/[\r\n]/);
  });
});

describe('slack', () => {
  it('escapes mrkdwn and adds the channel only when set', () => {
    expect(slackEscape('<@U1> & <!channel>')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt;');
    const payload = slackPayload(gateNotice(GATE, []), {});
    expect(payload).not.toHaveProperty('channel');
    expect(JSON.stringify(payload)).toContain('ship &lt;main&gt; &amp; tag?');
    expect(slackPayload(gateNotice(GATE, []), { channel: '#ops' }).channel).toBe('#ops');
  });
});

describe('jira', () => {
  it('builds the issue fields, the summary on one line within 255 characters, Task by default', () => {
    const issue = jiraIssue(gateNotice({ ...GATE, message: `line\n${'x'.repeat(400)}` }, []), { project: 'OPS' }) as {
      fields: { summary: string; issuetype: { name: string }; project: { key: string } };
    };
    expect(issue.fields.project).toEqual({ key: 'OPS' });
    expect(issue.fields.issuetype).toEqual({ name: 'Task' });
    expect(issue.fields.summary).toHaveLength(255);
    expect(issue.fields.summary).not.toContain('\n');
  });
});

describe('email', () => {
  it('takes one address or a list', () => {
    expect(recipients('ann@example.test')).toEqual(['ann@example.test']);
    expect(recipients([' a@example.test ', 3, ''])).toEqual(['a@example.test']);
    expect(recipients(undefined)).toEqual([]);
  });
});

describe('secrets and tokens', () => {
  it('reads a channel secret from its TRIG_SECRET_* reference, else the channel variable, and says which is missing', () => {
    expect(channelSecret({ token: 'account.jira_token' }, 'token', 'TRIG_JIRA_TOKEN', { TRIG_SECRET_JIRA_TOKEN: 's' })).toBe('s');
    expect(channelSecret({}, 'token', 'TRIG_JIRA_TOKEN', { TRIG_JIRA_TOKEN: 't' })).toBe('t');
    expect(() => channelSecret({ token: 'jiraToken' }, 'token', 'TRIG_JIRA_TOKEN', {})).toThrow(
      'TRIG_SECRET_JIRA_TOKEN is not set (token: jiraToken)',
    );
  });

  it('mints 32 random bytes as base64url, and stores their SHA-256', () => {
    const token = mintToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mintToken()).not.toBe(token);
    expect(tokenHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('backs off from 30 s, doubling, to an hour at most; cli notifies nobody', () => {
    expect([1, 2, 3, 8, 20].map(backoffMs)).toEqual([30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    expect(CHANNELS.cli).toBeNull();
  });

  it('escapes HTML in text and attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('HTTP', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('accepts http and https URLs only', () => {
    expect(httpUrl('https://h.example.test/x', 'url')).toBe('https://h.example.test/x');
    expect(() => httpUrl('file:///etc/passwd', 'url')).toThrow(NotifyError);
    expect(() => httpUrl(undefined, 'url')).toThrow('no url');
  });

  it('reads at most RESPONSE_LIMIT bytes of an answer, follows no redirect, and says a failure in one line', async () => {
    server = createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { Location: '/elsewhere' });
        return res.end();
      }
      res.writeHead(500);
      // Far more than trig reads: it stops reading and cancels.
      res.end('e'.repeat(4 * RESPONSE_LIMIT));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const answer = await postJson(`${base}/big`, { a: 1 });
    expect(answer.status).toBe(500);
    expect(answer.text.length).toBeLessThanOrEqual(RESPONSE_LIMIT);
    expect(() => expectSuccess(answer, 'the webhook')).toThrow(`the webhook answered HTTP 500: ${'e'.repeat(200)}`);
    expect((await postJson(`${base}/moved`, {})).status).toBe(302);
    await expect(postJson('http://127.0.0.1:9/', {})).rejects.toThrow(/^cannot reach the server/);
  });
});
