import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CSP, markup, renderHome, renderMessage, renderRun } from '../../src/integrations/serve/page-html.js';
import { escapeHtml } from '../../src/shared/html.js';
import { crossSiteReason, isLoopback, pageAccess, sameSecret } from '../../src/integrations/serve/page.js';
import type { StoredEvent, StoredGate, StoredLogLine, StoredRun } from '../../src/store/store.js';

// trig serve's page, as functions: what it renders from hostile records (names, messages,
// comments and logs come from definitions and payloads anyone may write), and the checks
// that keep another site from deciding through a visitor's browser.

const EVIL = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>&amp;\u001b[31m\nnext line`;
const now = new Date('2026-06-01T12:00:00Z');

const run: StoredRun = {
  id: 'a1b2c3d4e5f6',
  eventId: '0123456789ab',
  eventName: EVIL,
  file: `/defs/${EVIL}.yaml`,
  definition: EVIL,
  status: 'failed',
  reason: EVIL,
  group: null,
  queuedAt: new Date('2026-06-01T11:59:00Z'),
  startedAt: new Date('2026-06-01T11:59:01Z'),
  endedAt: new Date('2026-06-01T11:59:03Z'),
  exitCode: 3,
  steps: [{ stage: EVIL, name: EVIL, status: 'failed', exitCode: 3, durationMs: 2000, reason: EVIL }],
  pid: null,
  pgids: [],
  logBytes: 100,
  logDroppedBytes: 0,
  chain: [],
};

const event: StoredEvent = {
  id: '0123456789ab',
  name: EVIL,
  source: 'http',
  at: now,
  deliveryKey: EVIL,
  places: [],
  payload: {},
  headers: null,
  replayOf: null,
  details: {},
  decisions: [],
  dispatched: true,
  runs: [run.id, 'ffffffffffff'],
};

const gate: StoredGate = {
  id: 'abcdef012345',
  runId: run.id,
  definition: EVIL,
  file: '/defs/x.yaml',
  eventName: EVIL,
  step: EVIL,
  message: EVIL,
  settings: { uses: 'cli', timeout: '1h', timeoutAction: 'reject', minApprovers: 2, approvers: [EVIL, 'ann'] },
  deadline: new Date(now.getTime() + 90_000),
  createdAt: now,
  decisions: [{ verdict: 'approve', by: EVIL, at: now.toISOString(), from: 'http', comment: EVIL }],
  outcome: null,
  runStatus: 'awaiting_approval',
  notification: null,
};

const log: StoredLogLine[] = [
  { seq: 1, at: now, step: EVIL, text: `</pre>${EVIL}` },
  { seq: 2, at: now, step: null, text: 'plain' },
];

// The tags and attributes the page is made of: anything else in it came from a record.
const TAGS = new Set('html head meta title style body h1 h2 p a span br table thead tbody tr th td form input label button pre'.split(' '));
const ATTRIBUTES = new Set(
  'lang charset name content class href id role method action type value required maxlength size formaction'.split(' '),
);

/** Every tag of the page, with its attributes: each `<` must open one of TAGS with ATTRIBUTES only, or close one. */
function tagsOf(page: string): { tag: string; attributes: string[] }[] {
  const tags: { tag: string; attributes: string[] }[] = [];
  const body = page.replace(/^<!doctype html>\n/, '');
  const style = /<style>[^<]*<\/style>/.exec(body)!;
  const rest = body.slice(0, style.index) + body.slice(style.index + style[0].length);
  for (let i = rest.indexOf('<'); i !== -1; i = rest.indexOf('<', i + 1)) {
    const tag = /^<\/?([a-z0-9]+)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>/.exec(rest.slice(i));
    expect(tag, `an unexpected < at …${rest.slice(i, i + 60)}`).not.toBeNull();
    const attributes = [...tag![2]!.matchAll(/\s+([a-z-]+)(?:="[^"]*")?/g)].map((m) => m[1]!);
    tags.push({ tag: tag![1]!, attributes });
  }
  return tags;
}

function expectInert(page: string) {
  for (const { tag, attributes } of tagsOf(page)) {
    expect(TAGS.has(tag), tag).toBe(true);
    for (const attribute of attributes) expect(ATTRIBUTES.has(attribute), `${tag} ${attribute}`).toBe(true);
  }
  expect(page).not.toMatch(/<script|<img|\u001b/i);
}

describe("the page's HTML", () => {
  it('escapes text and attribute values; markup made here is kept', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = markup`<b>${'<i>'}</b>`;
    expect(markup`<p title="${'"x"'}">${inner}${[inner, inner]}${null}${undefined}${false}${0}</p>`.text).toBe(
      '<p title="&quot;x&quot;"><b>&lt;i&gt;</b><b>&lt;i&gt;</b><b>&lt;i&gt;</b>0</p>',
    );
  });

  it('shows hostile runs, events and gates as text: no tag or attribute of theirs, control characters and line breaks as escapes', () => {
    const page = renderHome({
      now,
      csrf: 'tok"en',
      defaultName: `ann" autofocus onfocus="alert(3)`,
      runs: [run],
      events: [event],
      gates: [gate],
      notice: { kind: 'error', text: EVIL },
    });
    expectInert(page);
    expect(page).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;\\u001b[31m\\nnext line',
    );
    expect(page).toContain('<input name="by" value="ann&quot; autofocus onfocus=&quot;alert(3)"');
    expect(page).toContain('<input type="hidden" name="csrf" value="tok&quot;en">');
    // The gate: its id in the forms' addresses, approvals so far, time left.
    expect(page).toContain('<form method="post" action="/gates/abcdef012345/approve">');
    expect(page).toContain('formaction="/gates/abcdef012345/reject"');
    expect(page).toContain('1/2 (&lt;script&gt;');
    expect(page).toContain('<td class="t">1m30s, then reject</td>');
    // A run: link, status, duration; an event's runs, with the status of those listed.
    expect(page).toContain('<a class="id" href="/runs/a1b2c3d4e5f6">a1b2c3d4e5f6</a>');
    expect(page).toContain('<span class="status failed">failed</span>');
    expect(page).toContain('<td class="t">2.0s</td>');
    expect(page).toContain('<a class="id" href="/runs/ffffffffffff">ffffffffffff</a> </td>');
  });

  it('offers Retry, Ignore and Abort for a failed step that waits for manual intervention, and no approval', () => {
    const intervention: StoredGate = {
      ...gate,
      message: 'exited with code 1',
      settings: { kind: 'intervention', uses: 'cli', timeout: '1h', timeoutAction: 'abort', minApprovers: 1, approvers: [] },
    };
    const page = renderHome({ now, csrf: 't', defaultName: 'ann', runs: [], events: [], gates: [intervention] });
    expectInert(page);
    expect(page).toContain('<form method="post" action="/gates/abcdef012345/retry">');
    expect(page).toContain('<button type="submit">Retry</button>');
    expect(page).toContain('<button type="submit" formaction="/gates/abcdef012345/ignore">Ignore</button>');
    expect(page).toContain('<button type="submit" formaction="/gates/abcdef012345/abort">Abort</button>');
    expect(page).not.toContain('Approve');
    expect(page).toContain('<td>retry|ignore|abort</td>');
    expect(page).toContain('<td class="t">1m30s, then abort</td>');
  });

  it("shows a run's steps and log escaped, the log inside its <pre> whatever it holds", () => {
    const page = renderRun({ now, run, log });
    expectInert(page);
    const pre = /<pre id="log">([^<]*)<\/pre>/.exec(page);
    expect(pre, 'the log is one <pre> with no tag inside').not.toBeNull();
    expect(pre![1]!.split('\n')[0]).toMatch(/^\[&lt;script&gt;.*\] &lt;\/pre&gt;&lt;script&gt;/);
    expect(pre![1]!.split('\n')[1]).toMatch(/\] plain$/);
    expectInert(renderMessage('No such run', { kind: 'error', text: EVIL }));
  });

  it('holds the one inline style the Content-Security-Policy allows by its hash, and no script at all', () => {
    const page = renderHome({ now, csrf: 't', defaultName: 'ann', runs: [], events: [], gates: [] });
    const style = /<style>([^<]*)<\/style>/.exec(page)![1]!;
    expect(CSP).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(CSP).toMatch(/^default-src 'none'; /);
    expect(CSP).toContain("frame-ancestors 'none'");
    expect(CSP).toContain("form-action 'self'");
    expect(CSP).not.toMatch(/script-src|unsafe/);
    expect(page).not.toMatch(/ style=|<script/);
  });
});

describe("the page's checks", () => {
  it('compares secrets whatever their lengths', () => {
    expect(sameSecret('a-long-enough-token', 'a-long-enough-token')).toBe(true);
    expect(sameSecret('a-long-enough-tokem', 'a-long-enough-token')).toBe(false);
    expect(sameSecret('a', 'a-long-enough-token')).toBe(false);
    expect(sameSecret('', 'a-long-enough-token')).toBe(false);
    expect(sameSecret(null, 'a-long-enough-token')).toBe(false);
    expect(sameSecret(undefined, 'a-long-enough-token')).toBe(false);
  });

  it("refuses a form post another site's page makes a browser send; takes the page's own and a client that says nothing", () => {
    const host = '127.0.0.1:8080';
    expect(crossSiteReason({ host })).toBeUndefined();
    expect(crossSiteReason({ host, 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:8080' })).toBeUndefined();
    expect(crossSiteReason({ host: 'LOCALHOST:8080', origin: 'http://localhost:8080' })).toBeUndefined();
    expect(crossSiteReason({ host: 'trig.example.com', origin: 'https://trig.example.com' })).toBeUndefined();
    expect(crossSiteReason({ host, 'sec-fetch-site': 'cross-site' })).toBe('Sec-Fetch-Site: cross-site');
    expect(crossSiteReason({ host, 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:8080' })).toBe('Sec-Fetch-Site: same-site');
    expect(crossSiteReason({ host, 'sec-fetch-site': 'none' })).toBe('Sec-Fetch-Site: none');
    expect(crossSiteReason({ host, origin: 'http://evil.example' })).toBe("Origin http://evil.example is not this page's");
    expect(crossSiteReason({ host, origin: 'http://127.0.0.1:8081' })).toBe("Origin http://127.0.0.1:8081 is not this page's");
    expect(crossSiteReason({ host, origin: 'null' })).toBe("Origin null is not this page's");
    expect(crossSiteReason({ host, origin: 'not a url' })).toBe("Origin not a url is not this page's");
    // A Host that URL would read as another (user info) is no host.
    expect(crossSiteReason({ host: 'evil.example@127.0.0.1:8080', origin: 'http://127.0.0.1:8080' })).toBeDefined();
    expect(crossSiteReason({ origin: 'http://127.0.0.1:8080' })).toBeDefined();
  });

  it('knows loopback addresses and names', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', 'app.localhost', '::ffff:127.0.0.1'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', 'localhost.example.com', '128.0.0.1', ''])
      expect(isLoopback(host), host).toBe(false);
  });

  it('needs TRIG_UI_TOKEN off loopback, and a token long enough', () => {
    expect(pageAccess('127.0.0.1', {})).toEqual({});
    expect(pageAccess('127.0.0.1', { TRIG_UI_TOKEN: '' })).toEqual({});
    expect(pageAccess('0.0.0.0', { TRIG_UI_TOKEN: '0123456789abcdef' })).toEqual({ token: '0123456789abcdef' });
    expect(pageAccess('localhost', { TRIG_UI_TOKEN: '0123456789abcdef' })).toEqual({ token: '0123456789abcdef' });
    expect(() => pageAccess('0.0.0.0', {})).toThrow(
      '--host 0.0.0.0 is not a loopback address: set TRIG_UI_TOKEN for the page at /, or give --no-page to serve the webhooks only',
    );
    expect(() => pageAccess('127.0.0.1', { TRIG_UI_TOKEN: 'short' })).toThrow(/^TRIG_UI_TOKEN: expected at least 16 characters/);
    expect(() => pageAccess('127.0.0.1', { TRIG_UI_TOKEN: '0123456789abcdef 0123' })).toThrow(/^TRIG_UI_TOKEN: expected/);
  });
});
