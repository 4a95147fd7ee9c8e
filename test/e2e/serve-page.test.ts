import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileLines } from '../helpers/files.js';
import {
  csrfOf,
  fireGated,
  formPost,
  gateDecisions,
  gatedPlace,
  noticeOf,
  rawRequest,
  storedRuns,
  UI_SECRET,
  waitingGates,
  type GatedPlace,
} from '../helpers/page.js';
import { killServers, startServe, until } from '../helpers/serve.js';
import { trig } from '../helpers/trig.js';

// trig serve's page through the built bin/trig: a run fired with `trig fire` waits at its
// gate; the page lists it, and its forms decide it through the same code as `trig
// approve`. Every request is raw HTTP with the headers a browser (or an attacker's page)
// would send. Nothing here measures time: each wait polls up to a deadline.

afterEach(() => killServers());

const TOKEN = 'a-ui-token-of-32-characters-long';

/** A run waiting at its gate, and trig serve over its store. */
async function waiting(approval = 'true', options: { waitForGo?: boolean; env?: NodeJS.ProcessEnv; args?: string[] } = {}) {
  const p = gatedPlace(approval, options);
  const fired = fireGated(p);
  expect(fired.code, fired.stderr + fired.stdout).toBe(0);
  const [gate] = waitingGates(p);
  expect(gate).toBeDefined();
  const server = await startServe(options.args ?? [], { cwd: p.dir, env: { ...p.env, ...options.env } });
  return { p, gate: gate!.id, run: gate!.runId, server };
}

const nothingDecided = (p: GatedPlace, gate: string) => {
  expect(gateDecisions(p, gate)).toEqual([]);
  expect(waitingGates(p).map((g) => g.id)).toEqual([gate]);
  expect(existsSync(path.join(p.dir, 'deployed.txt'))).toBe(false);
};

describe("trig serve's page", () => {
  it('lists the waiting gate with its forms, and is sent with a strict Content-Security-Policy, never framed or cached', async () => {
    const { gate, run, server } = await waiting('{message: "ship <+trigger.environment>?", min-approvers: 2}');
    const home = await rawRequest(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.headers['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self'; frame-ancestors 'none'/,
    );
    expect(home.headers['x-frame-options']).toBe('DENY');
    expect(home.headers['cache-control']).toBe('no-store');
    expect(home.headers['x-content-type-options']).toBe('nosniff');
    expect(home.text).toContain(`<tr id="gate-${gate}">`);
    expect(home.text).toContain('<td>ship prod?</td><td>0/2</td>');
    expect(home.text).toContain(`<form method="post" action="/gates/${gate}/approve">`);
    expect(home.text).toContain(`<a class="id" href="/runs/${run}">${run}</a></td><td><span class="status awaiting_approval">`);
    expect(home.text).not.toContain('<script');
    const head = await rawRequest(`${server.url}/`, { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
  });

  it('decides nothing on a post without the form token, with a wrong one, from another site, or by another host name (403)', async () => {
    const { p, gate, server } = await waiting();
    const home = await rawRequest(`${server.url}/`);
    const csrf = csrfOf(home.text);
    const url = `${server.url}/gates/${gate}/approve`;

    const none = await formPost(url, { by: 'ann' });
    expect([none.status, noticeOf(none.text)]).toEqual([
      403,
      'the form token is missing or wrong (a page from before trig serve restarted?): nothing was decided; decide again here',
    ]);
    // One character changed (whatever the token's last one is).
    const wrong = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
    expect((await formPost(url, { by: 'ann', csrf: wrong })).status).toBe(403);
    expect((await formPost(url, { by: 'ann', csrf: 'short' })).status).toBe(403);
    // The right token, carried by a page elsewhere: the browser says where it comes from.
    const evil = await formPost(url, { by: 'ann', csrf }, { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' });
    expect([evil.status, noticeOf(evil.text)]).toEqual([403, 'a decision must come from this page (Sec-Fetch-Site: cross-site)']);
    const origin = await formPost(url, { by: 'ann', csrf }, { Origin: 'http://evil.example', 'Sec-Fetch-Site': undefined });
    expect([origin.status, noticeOf(origin.text)]).toEqual([
      403,
      "a decision must come from this page (Origin http://evil.example is not this page's)",
    ]);
    // A name that resolves to 127.0.0.1 (DNS rebinding) gets neither the page nor its token.
    const rebound = await rawRequest(`${server.url}/`, { headers: { Host: `evil.example:${new URL(server.url).port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.text).not.toContain('csrf');
    expect((await formPost(url, { by: 'ann', csrf }, { Host: 'evil.example', Origin: 'http://evil.example' })).status).toBe(403);
    nothingDecided(p, gate);
    // Nor does the log say the token.
    expect(server.stderr()).not.toContain(csrf);
  });

  it('records a decision from the page as from http, answers 303 before the run goes on, and trig serve runs the rest once', async () => {
    const { p, gate, run, server } = await waiting('true', { waitForGo: true });
    const csrf = csrfOf((await rawRequest(`${server.url}/`)).text);
    const approved = await formPost(`${server.url}/gates/${gate}/approve`, { by: ' ann ', comment: 'ship it', csrf });
    expect([approved.status, approved.headers.location, approved.text]).toEqual([303, `/?decided=${gate}`, '']);
    expect(gateDecisions(p, gate)).toEqual([{ verdict: 'approve', by: 'ann', at: expect.any(String), from: 'http', comment: 'ship it' }]);
    // The answer came while the run waits for `go`: it never waits for a run.
    const after = await rawRequest(`${server.url}${approved.headers.location}`);
    expect(noticeOf(after.text)).toBe(`gate ${gate} (run ${run}, gated) approved: the run goes on`);
    expect(after.text).not.toContain(`<tr id="gate-${gate}">`);
    await until('the run to be running', () => storedRuns(p)[0]!.status === 'running');
    expect(existsSync(path.join(p.dir, 'deployed.txt'))).toBe(false);

    writeFileSync(path.join(p.dir, 'go'), '');
    await until('the run to succeed', () => storedRuns(p)[0]!.status === 'succeeded');
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deployed']);
    expect(storedRuns(p)[0]!.steps.map((s) => [s.name, s.status, s.reason])).toEqual([
      [null, 'succeeded', 'approved by ann (ship it)'],
      ['deploy', 'succeeded', undefined],
    ]);
    await until('the log line of the run carried on', () =>
      server.logLines().some((l) => l.kind === 'resumed' && l.run === run && l.status === 'succeeded'),
    );
    expect(server.logLines()).toContainEqual(
      expect.objectContaining({ kind: 'page', method: 'POST', path: `/gates/${gate}/approve`, status: 303, result: 'approved' }),
    );

    // Decided already: refused with 409, shown on the page; nothing runs again.
    const again = await formPost(`${server.url}/gates/${gate}/reject`, { by: 'bob', csrf });
    expect([again.status, noticeOf(again.text)]).toEqual([409, `gate ${gate} is decided already: approved (by ann)`]);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deployed']);
    const shown = await rawRequest(`${server.url}/`);
    expect(shown.text).toContain(`<a class="id" href="/runs/${run}">${run}</a></td><td><span class="status succeeded">succeeded</span>`);
  });

  it('answers 503 once trig serve stops, and the stop waits for the run a decision carried on', async () => {
    const { p, gate, server } = await waiting('true', { waitForGo: true });
    const csrf = csrfOf((await rawRequest(`${server.url}/`)).text);
    expect((await formPost(`${server.url}/gates/${gate}/approve`, { by: 'ann', csrf })).status).toBe(303);
    await until('the run to be running', () => storedRuns(p)[0]!.status === 'running');
    server.child.kill('SIGTERM');
    await until('the stop to begin', () => server.stderr().includes('SIGTERM: no more deliveries'));
    const during = await rawRequest(`${server.url}/`);
    expect([during.status, noticeOf(during.text)]).toEqual([503, 'trig serve is stopping: nothing was decided; try again once it is back']);
    writeFileSync(path.join(p.dir, 'go'), '');
    expect(await server.exited).toBe(0);
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deployed']);
    expect(storedRuns(p)[0]!.status).toBe('succeeded');
  });

  it('refuses an unknown gate (404), a name not among the approvers (403), a bad form (400, 413, 415) and GET (405); a rejection ends the run', async () => {
    const { p, gate, server } = await waiting('{approvers: [ann]}');
    const csrf = csrfOf((await rawRequest(`${server.url}/`)).text);
    const url = `${server.url}/gates/${gate}`;
    const unknown = await formPost(`${server.url}/gates/ffffffffffff/approve`, { by: 'ann', csrf });
    expect([unknown.status, noticeOf(unknown.text)]).toEqual([404, 'no gate ffffffffffff']);
    const stranger = await formPost(`${url}/approve`, { by: 'mallory', csrf });
    expect([stranger.status, noticeOf(stranger.text)]).toEqual([403, `"mallory" may not decide gate ${gate}: its approvers are "ann"`]);
    const blank = await formPost(`${url}/approve`, { by: '  ', csrf });
    expect([blank.status, noticeOf(blank.text)]).toEqual([400, 'the name must be one line of 1 to 200 characters']);
    expect((await formPost(`${url}/approve`, { by: 'ann\u0007', csrf })).status).toBe(400);
    const big = await formPost(`${url}/approve`, { by: 'ann', csrf, comment: 'x'.repeat(17 * 1024) });
    expect(big.status).toBe(413);
    const json = await rawRequest(`${url}/approve`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const get = await rawRequest(`${url}/approve`);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    nothingDecided(p, gate);

    const rejected = await formPost(`${url}/reject`, { by: 'ann', comment: 'not today', csrf });
    expect(rejected.status).toBe(303);
    const [stored] = storedRuns(p);
    expect([stored!.status, stored!.reason]).toEqual(['rejected', 'approval: rejected by ann: not today']);
    expect(gateDecisions(p, gate)).toEqual([expect.objectContaining({ verdict: 'reject', by: 'ann', from: 'http' })]);
    expect(noticeOf((await rawRequest(`${server.url}${rejected.headers.location}`)).text)).toMatch(/ rejected: the run ends rejected$/);
    expect(existsSync(path.join(p.dir, 'deployed.txt'))).toBe(false);
  });

  it('decides a failed step that waits for manual intervention: an approval is refused (409), Ignore carries the run on', async () => {
    const p = gatedPlace('false');
    // The step fails until it is let go: manual intervention, decided on the page.
    writeFileSync(
      path.join(p.dir, '.harness', 'gated.yaml'),
      [
        'pipeline:',
        '  name: gated',
        '  on: deploy',
        '  stages:',
        '    - name: release',
        '      steps:',
        '        - name: check',
        '          run: {shell: sh, script: "false"}',
        '          on-failure: {errors: all, action: manual-intervention}',
        '        - name: deploy',
        '          run: {shell: sh, script: echo deployed >> deployed.txt}',
        '',
      ].join('\n'),
    );
    expect(fireGated(p).code).toBe(0);
    const [gate] = waitingGates(p);
    const server = await startServe([], { cwd: p.dir, env: p.env });
    const home = await rawRequest(`${server.url}/`);
    expect(home.text).toContain(`<form method="post" action="/gates/${gate!.id}/retry">`);
    expect(home.text).toContain(`formaction="/gates/${gate!.id}/ignore">Ignore</button>`);
    const csrf = csrfOf(home.text);
    const approve = await formPost(`${server.url}/gates/${gate!.id}/approve`, { by: 'ann', csrf });
    expect([approve.status, noticeOf(approve.text)]).toEqual([
      409,
      `gate ${gate!.id} waits for manual intervention, not approval: trig intervene ${gate!.id} retry|ignore|abort`,
    ]);
    const ignored = await formPost(`${server.url}/gates/${gate!.id}/ignore`, { by: 'ann', csrf });
    expect([ignored.status, ignored.headers.location]).toEqual([303, `/?decided=${gate!.id}`]);
    expect(gateDecisions(p, gate!.id)).toEqual([{ verdict: 'ignore', by: 'ann', at: expect.any(String), from: 'http' }]);
    await until('the run to succeed', () => storedRuns(p)[0]!.status === 'succeeded');
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deployed']);
    expect(storedRuns(p)[0]!.steps[0]!.reason).toBe('exited with code 1; ignored by ann (manual intervention)');
    const after = await rawRequest(`${server.url}/?decided=${gate!.id}`);
    expect(noticeOf(after.text)).toBe(`gate ${gate!.id} (run ${gate!.runId}, gated) ignored: the run goes on`);
  });

  it("shows a run's steps and its stored log, masked and escaped", async () => {
    const { p, gate, run, server } = await waiting();
    const csrf = csrfOf((await rawRequest(`${server.url}/`)).text);
    expect((await formPost(`${server.url}/gates/${gate}/approve`, { by: 'ann', csrf })).status).toBe(303);
    await until('the run to succeed', () => storedRuns(p)[0]!.status === 'succeeded');
    const page = await rawRequest(`${server.url}/runs/${run.slice(0, 8)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<h1>Run <span class="id">${run}</span> <span class="status succeeded">succeeded</span></h1>`);
    expect(page.text).toContain('[gated/deploy] token *** &lt;b&gt;bold&lt;/b&gt;\n');
    expect(page.text).not.toContain(UI_SECRET);
    expect(page.text).toContain('<td>release</td><td>deploy</td><td><span class="status succeeded">succeeded</span></td>');
    const missing = await rawRequest(`${server.url}/runs/ffffffffffff`);
    expect([missing.status, noticeOf(missing.text)]).toEqual([404, 'no run ffffffffffff']);
    expect((await rawRequest(`${server.url}/runs/not-hex`)).status).toBe(404);
  });
});

describe('who may use the page', () => {
  it('off loopback, trig serve does not start without TRIG_UI_TOKEN (exit 2, one line), nor with a short one', () => {
    const p = gatedPlace('true');
    const refused = trig(['serve', '--host', '0.0.0.0', '--port', '0'], { cwd: p.dir, env: p.env });
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      2,
      '',
      'trig: --host 0.0.0.0 is not a loopback address: set TRIG_UI_TOKEN for the page at /, or give --no-page to serve the webhooks only\n',
    ]);
    const short = trig(['serve', '--port', '0'], { cwd: p.dir, env: { ...p.env, TRIG_UI_TOKEN: 'too-short' } });
    expect([short.code, short.stderr.split('\n').length]).toEqual([2, 2]);
    expect(short.stderr).toMatch(/^trig: TRIG_UI_TOKEN: expected at least 16 characters/);
  });

  it('with TRIG_UI_TOKEN, the page wants the token (Bearer, or ?token= once, kept in an HttpOnly SameSite=Strict cookie); webhook routes are as before', async () => {
    const { p, gate, server } = await waiting('true', { env: { TRIG_UI_TOKEN: TOKEN } });
    await until('the page to be announced', () => server.stderr().includes(`the page: ${server.url}/ (TRIG_UI_TOKEN needed)`));
    const bare = await rawRequest(`${server.url}/`);
    expect([bare.status, bare.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect(bare.text).not.toContain('csrf');
    expect((await rawRequest(`${server.url}/`, { headers: { Authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await rawRequest(`${server.url}/?token=${TOKEN}x`)).status).toBe(401);
    expect((await rawRequest(`${server.url}/runs/ffffffffffff`)).status).toBe(401);

    const bearer = await rawRequest(`${server.url}/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    const csrf = csrfOf(bearer.text);
    // A form post with the form token but not the UI token decides nothing.
    expect((await formPost(`${server.url}/gates/${gate}/approve`, { by: 'ann', csrf })).status).toBe(401);
    nothingDecided(p, gate);

    const visit = await rawRequest(`${server.url}/?token=${TOKEN}`);
    expect([visit.status, visit.headers.location]).toEqual([303, '/']);
    expect(visit.headers['set-cookie']).toEqual([`trig_ui=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`]);
    const cookie = `trig_ui=${TOKEN}`;
    expect((await rawRequest(`${server.url}/`, { headers: { Cookie: `other=1; ${cookie}` } })).status).toBe(200);
    // With the UI token, any host name will do (the token is the check).
    expect((await rawRequest(`${server.url}/`, { headers: { Cookie: cookie, Host: 'trig.example.com' } })).status).toBe(200);
    const approved = await formPost(`${server.url}/gates/${gate}/approve`, { by: 'ann', csrf }, { Cookie: cookie });
    expect(approved.status).toBe(303);
    await until('the run to succeed', () => storedRuns(p)[0]!.status === 'succeeded');

    expect((await rawRequest(`${server.url}/healthz`)).status).toBe(200);
    const github = await rawRequest(`${server.url}/github`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(github.status).toBe(401);
    // The token is never logged (the ?token= visit is logged by its path alone).
    expect(server.stderr()).not.toContain(TOKEN);
  });

  it('--no-page serves the webhooks only', async () => {
    const p = gatedPlace('true');
    const server = await startServe(['--no-page'], { cwd: p.dir, env: p.env });
    const home = await rawRequest(`${server.url}/`);
    expect(home.status).toBe(404);
    expect(JSON.parse(home.text).error).toMatch(/^no route \//);
    expect(server.stderr()).not.toContain('the page:');
  });
});
