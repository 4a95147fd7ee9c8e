import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { CACHE_DIR, TRIG } from './trig.js';

// Starting the built `trig serve` on a free loopback port, and sending it real requests.
// Nothing here measures time: every wait polls for what it expects, up to a generous deadline.

export const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];
/** A real delivery body of GitHub's, deep-copied so a test may change it. */
export const githubExample = (event: string, pick: (p: Record<string, any>) => boolean = () => true): Record<string, any> =>
  structuredClone(examples.find((e) => e.name === event)!.examples.find(pick)!);

export const GITHUB_SECRET = 'It is a secret to everybody';
export const LINEAR_SECRET = 'lin_wh_secret_for_tests';
/** A Standard Webhooks secret: whsec_ and base64. */
export const STANDARD_SECRET = `whsec_${Buffer.from('a key of thirty-two bytes, exact!').toString('base64')}`;

export const SECRETS_ENV = {
  TRIG_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
  TRIG_LINEAR_WEBHOOK_SECRET: LINEAR_SECRET,
  TRIG_WEBHOOK_SECRET: STANDARD_SECRET,
};

export interface Serving {
  child: ChildProcess;
  url: string;
  stderr(): string;
  stdout(): string;
  exited: Promise<number | null>;
  /** The JSON lines of the log, parsed. */
  logLines(): Record<string, any>[];
}

const children = new Set<ChildProcess>();
/** For afterEach/afterAll: every server still running is killed. */
export function killServers(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  deadlineMs = 30_000,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await delay(50);
  }
}

export async function startServe(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Serving> {
  const child = spawn(process.execPath, [TRIG, 'serve', '--port', '0', ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TRIG_CACHE_DIR: CACHE_DIR, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await until('trig serve to listen', () => {
    if (gone) throw new Error(`trig serve exited: ${err}`);
    return /^trig serve: listening on (http:\/\/\S+)$/m.exec(err)?.[1];
  });
  return {
    child,
    url,
    stderr: () => err,
    stdout: () => out,
    exited,
    logLines: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  const response = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}

export function githubHeaders(event: string, id: string, body: string | Buffer, secret = GITHUB_SECRET): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': id,
    'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  };
}

export function linearHeaders(id: string, body: string, secret = LINEAR_SECRET): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Linear-Delivery': id,
    'Linear-Signature': createHmac('sha256', secret).update(body).digest('hex'),
  };
}

/** Lines of a file the runs append to (none yet: empty). */
export function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
