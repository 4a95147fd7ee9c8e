import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { trig, type TrigResult } from './trig.js';

// trig serve's page in the end-to-end tests: a place with a gated definition whose run waits
// at its gate (fired through the real bin/trig), and raw HTTP requests whose every header
// the test sets (a browser's Origin, Sec-Fetch-Site, Host, cookies), without redirects followed.

export interface GatedPlace {
  dir: string;
  state: string;
  env: NodeJS.ProcessEnv;
}

export const UI_SECRET = 's3cr3t-in-the-log';

/**
 * A folder with .harness/gated.yaml: a definition gated before its first step (its
 * `approval:` settings as given), whose one step echoes the secret input, then waits for a
 * file named `go` when `waitForGo`, then appends `deployed` to deployed.txt.
 */
export function gatedPlace(approval: string, options: { waitForGo?: boolean; name?: string } = {}): GatedPlace {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-page-'));
  mkdirSync(path.join(dir, '.harness'));
  const script = [
    'echo "token <+inputs.token> <b>bold</b>"',
    ...(options.waitForGo ? ['while [ ! -f go ]; do sleep 0.05; done'] : []),
    'echo deployed >> deployed.txt',
  ];
  writeFileSync(
    path.join(dir, '.harness', 'gated.yaml'),
    [
      'pipeline:',
      `  name: ${JSON.stringify(options.name ?? 'gated')}`,
      '  on: deploy',
      `  approval: ${approval}`,
      '  inputs:',
      '    token: {type: secret, default: token}',
      '  stages:',
      '    - name: release',
      '      steps:',
      '        - name: deploy',
      '          run:',
      '            shell: sh',
      '            script: |',
      ...script.map((l) => `              ${l}`),
      '',
    ].join('\n'),
  );
  const state = path.join(dir, 'state');
  return { dir, state, env: { TRIG_STATE_DIR: state, TRIG_SECRET_TOKEN: UI_SECRET } };
}

/** Fires `deploy` with the real bin/trig: the run stops at its gate and the command ends. */
export function fireGated(p: GatedPlace): TrigResult {
  return trig(['fire', '--event', 'deploy', '--payload', '-'], { cwd: p.dir, env: p.env, input: '{"environment":"prod"}' });
}

export interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  steps: { name: string | null; status: string; reason?: string }[];
}

export function storedRuns(p: GatedPlace): RunJson[] {
  const result = trig(['runs', '--all', '--json'], { cwd: p.dir, env: p.env });
  if (result.code !== 0) throw new Error(result.stderr);
  return (JSON.parse(result.stdout) as { runs: RunJson[] }).runs;
}

/** The waiting gates' ids, from trig approvals. */
export function waitingGates(p: GatedPlace): { id: string; runId: string; approvals: { by: string }[] }[] {
  const result = trig(['approvals', '--json'], { cwd: p.dir, env: p.env });
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout).gates;
}

/** The decisions recorded on a gate, as the store keeps them. */
export function gateDecisions(p: GatedPlace, gate: string): { verdict: string; by: string; from: string; comment?: string }[] {
  const db = new Database(path.join(p.state, 'trig.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT decisions FROM gates WHERE id = ?').get(gate) as { decisions: string };
    return JSON.parse(row.decisions);
  } finally {
    db.close();
  }
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with exactly these headers (Host included, when given); redirects are not followed. */
export function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The page's form token (every form carries the same one). */
export function csrfOf(html: string): string {
  const token = /<input type="hidden" name="csrf" value="([^"]*)">/.exec(html)?.[1];
  if (!token) throw new Error(`no form on the page:\n${html}`);
  return token;
}

/** A form post as a browser sends it from the page itself; a header given as undefined is left out. */
export function formPost(url: string, fields: Record<string, string>, headers: Record<string, string | undefined> = {}): Promise<RawReply> {
  const all: Record<string, string | undefined> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Origin: new URL(url).origin,
    'Sec-Fetch-Site': 'same-origin',
    ...headers,
  };
  return rawRequest(url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
    body: new URLSearchParams(fields).toString(),
  });
}

/** The one-line notice a page shows, unescaped for comparison; undefined when none. */
export function noticeOf(html: string): string | undefined {
  const text = /<p class="notice (?:error|ok)" role="(?:alert|status)">([^<]*)<\/p>/.exec(html)?.[1];
  return text
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
