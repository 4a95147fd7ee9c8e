// trig hooks on real repositories: a client with the client hooks and a bare server with
// post-receive, and actual commits, merges, branch switches and pushes between them. The
// definitions' script steps append one line per run to a log; the runs see the hook that
// fired them in TRIG_HOOK_ACTIVE (the hook runner sets it), so the log tells which hook
// ran which definition with which trigger values.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GIT_TEST_ENV } from '../helpers/git.js';
import { TRIG, trig } from '../helpers/trig.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'trig-hooks-e2e-'));
const LOG = path.join(temp, 'events.log');
const client = path.join(temp, 'client');
const server = path.join(temp, 'server.git');

const ENV: NodeJS.ProcessEnv = { ...GIT_TEST_ENV, NO_COLOR: '1', TRIG_HOOK_ACTIVE: undefined };

function git(cwd: string, ...args: string[]): { code: number | null; out: string } {
  const result = spawnSync('git', args, { cwd, env: ENV, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

function ok(cwd: string, ...args: string[]): string {
  const result = git(cwd, ...args);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed:\n${result.out}`);
  return result.out;
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function sha(rev: string, cwd = client): string {
  return ok(cwd, 'rev-parse', rev).trim();
}

/** The log lines written since the last call, sorted (runs of one event may run concurrently). */
function takeLog(): string[] {
  if (!existsSync(LOG)) return [];
  const lines = readFileSync(LOG, 'utf8').split('\n').filter(Boolean);
  rmSync(LOG);
  return lines.sort();
}

function definition(name: string, filter: string, extra = ''): string {
  return [
    'version: 1',
    'pipeline:',
    `  name: ${name}`,
    '  on:',
    '    - push:',
    ...filter.split('\n').map((l) => `        ${l}`),
    '  stages:',
    '    - name: s',
    '      steps:',
    '        - name: log',
    '          run:',
    '            shell: sh',
    '            script: |',
    `              echo "${name} $TRIG_HOOK_ACTIVE <+trigger.repo> b=<+trigger.branch> t=<+trigger.tag> <+trigger.changedFiles>" >> '${LOG}'`,
    ...(extra ? [`              ${extra}`] : []),
  ].join('\n');
}

const CHAINED_POST_COMMIT = `#!/bin/sh\necho "chained post-commit $#" >> '${LOG}'\n`;

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(TRIG), '..', 'dist', 'cli.cjs')), 'run npm run build first').toBe(true);
  ok(temp, 'init', '-q', '--bare', '-b', 'main', server);
  ok(temp, 'init', '-q', '-b', 'main', client);
  ok(client, 'remote', 'add', 'origin', server);
  write(path.join(client, '.harness/main.yaml'), definition('main-push', 'branches: [main]'));
  write(path.join(client, '.harness/docs.yaml'), definition('docs', 'paths: ["docs/**"]'));
  write(path.join(client, '.harness/feature.yaml'), definition('feature', 'branches: ["feature/*"]'));
  write(path.join(client, '.harness/tags.yaml'), definition('tags', 'tags: ["v*"]'));
  write(path.join(client, '.harness/broken.yaml'), definition('broken', 'branches: [broken]', 'exit 3'));
  write(path.join(client, 'docs/intro.md'), 'intro\n');
  write(path.join(client, 'README.md'), 'readme\n');
  // A hook that was there before trig: it must keep running, first, and come back intact.
  const existing = path.join(client, '.git/hooks/post-commit');
  writeFileSync(existing, CHAINED_POST_COMMIT);
  chmodSync(existing, 0o750);
  expect(trig(['hooks', 'install', '--repo', client]).code).toBe(0);
  expect(trig(['hooks', 'install'], { cwd: server }).code).toBe(0);
});

afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('trig hooks', () => {
  it('installs the client hooks next to the existing one, and install twice changes nothing', () => {
    const again = trig(['hooks', 'install', '--repo', client]);
    expect(again.stdout).toBe(
      ['post-commit: unchanged', 'post-merge: unchanged', 'post-checkout: unchanged', 'pre-push: unchanged', `hooks directory: ${path.join(client, '.git/hooks')}`, ''].join('\n'),
    );
    expect(readFileSync(path.join(client, '.git/hooks/post-commit.trig-chained'), 'utf8')).toBe(CHAINED_POST_COMMIT);
  });

  it('fires on the root commit with its own files, after running the chained hook', () => {
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'root');
    const files = JSON.stringify(['.harness/broken.yaml', '.harness/docs.yaml', '.harness/feature.yaml', '.harness/main.yaml', '.harness/tags.yaml', 'README.md', 'docs/intro.md']);
    const lines = readFileSync(LOG, 'utf8').split('\n');
    expect(lines[0]).toBe('chained post-commit 0');
    expect(takeLog()).toEqual([
      'chained post-commit 0',
      `docs post-commit server b=main t= ${files}`,
      `main-push post-commit server b=main t= ${files}`,
    ]);
  });

  it('applies the paths filter to the files a commit changes', () => {
    write(path.join(client, 'src/app.ts'), 'app\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'src only');
    expect(takeLog()).toEqual(['chained post-commit 0', 'main-push post-commit server b=main t= ["src/app.ts"]']);
  });

  it('fires for a branch switch, not for a checkout of files', () => {
    ok(client, 'switch', '-q', '-c', 'feature/x');
    expect(takeLog()).toEqual(['feature post-checkout server b=feature/x t= []']);
    write(path.join(client, 'docs/guide.md'), 'guide\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'guide');
    expect(takeLog()).toEqual(['chained post-commit 0', 'docs post-commit server b=feature/x t= ["docs/guide.md"]', 'feature post-commit server b=feature/x t= ["docs/guide.md"]']);
    write(path.join(client, 'README.md'), 'changed\n');
    ok(client, 'checkout', '--', 'README.md');
    expect(takeLog()).toEqual([]);
    ok(client, 'switch', '-q', 'main');
    expect(takeLog()).toEqual(['docs post-checkout server b=main t= ["docs/guide.md"]', 'main-push post-checkout server b=main t= ["docs/guide.md"]']);
  });

  it('fires post-merge with the files the merge brought in', () => {
    ok(client, 'merge', '-q', '--no-ff', '-m', 'merge feature', 'feature/x');
    expect(takeLog()).toEqual(['docs post-merge server b=main t= ["docs/guide.md"]', 'main-push post-merge server b=main t= ["docs/guide.md"]']);
  });

  it('fires pre-push on the client and post-receive on the server, which reads the pushed definitions', () => {
    // The server learns of a new definition only from the pushed commit.
    write(path.join(client, '.harness/server-only.yaml'), definition('pushed-def', 'branches: [main]\npaths: [".harness/server-only.yaml"]'));
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'add a definition');
    takeLog();
    const push = git(client, 'push', '-q', 'origin', 'main');
    expect(push.code, push.out).toBe(0);
    // A new branch on the server: the pushed commit's own files.
    expect(takeLog()).toEqual([
      'main-push post-receive server b=main t= [".harness/server-only.yaml"]',
      'main-push pre-push server b=main t= [".harness/server-only.yaml"]',
      'pushed-def post-receive server b=main t= [".harness/server-only.yaml"]',
      'pushed-def pre-push server b=main t= [".harness/server-only.yaml"]',
    ]);
    // The next push compares with what the server had.
    write(path.join(client, 'docs/more.md'), 'more\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'more docs');
    takeLog();
    expect(git(client, 'push', '-q', 'origin', 'main').code).toBe(0);
    expect(takeLog()).toEqual([
      'docs post-receive server b=main t= ["docs/more.md"]',
      'docs pre-push server b=main t= ["docs/more.md"]',
      'main-push post-receive server b=main t= ["docs/more.md"]',
      'main-push pre-push server b=main t= ["docs/more.md"]',
    ]);
  });

  it('fires for a pushed tag', () => {
    write(path.join(client, 'src/app.ts'), 'app 2\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'release');
    takeLog();
    ok(client, 'tag', '-a', '-m', 'release 1.0', 'v1.0');
    expect(git(client, 'push', '-q', 'origin', 'v1.0').code).toBe(0);
    // As on GitHub, paths filters are not evaluated for tag pushes: docs runs too, main-push does not.
    expect(takeLog()).toEqual([
      'docs post-receive server b= t=v1.0 ["src/app.ts"]',
      'docs pre-push server b= t=v1.0 ["src/app.ts"]',
      'tags post-receive server b= t=v1.0 ["src/app.ts"]',
      'tags pre-push server b= t=v1.0 ["src/app.ts"]',
    ]);
  });

  it('lets a failing run block a push only with --block-on-failure', () => {
    ok(client, 'switch', '-q', '-c', 'broken');
    takeLog();
    const allowed = git(client, 'push', '-q', 'origin', 'broken');
    expect(allowed.code, allowed.out).toBe(0);
    expect(allowed.out).toMatch(/trig: pre-push: refs\/heads\/broken: a run failed/);
    expect(takeLog()).toEqual(['broken post-receive server b=broken t= ["src/app.ts"]', 'broken pre-push server b=broken t= ["src/app.ts"]']);

    expect(trig(['hooks', 'install', '--repo', client, '--block-on-failure']).stdout).toContain('pre-push: updated');
    write(path.join(client, 'b.txt'), 'b\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'b');
    const before = sha('refs/heads/broken', server);
    const blocked = git(client, 'push', '-q', 'origin', 'broken');
    expect(blocked.code).not.toBe(0);
    expect(sha('refs/heads/broken', server)).toBe(before);
    expect(takeLog()).toEqual(['broken post-commit server b=broken t= ["b.txt"]', 'broken pre-push server b=broken t= ["b.txt"]', 'chained post-commit 0']);
    ok(client, 'switch', '-q', 'main');
    takeLog();
  });

  it('builds the same payload for trig fire --from-git', () => {
    const result = trig(['fire', '--event', 'push', '--from-git', '--before', 'HEAD~2', '--quiet'], { cwd: client, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(takeLog()).toEqual(['docs  server b=main t= ["docs/more.md","src/app.ts"]', 'main-push  server b=main t= ["docs/more.md","src/app.ts"]']);
    const usage = trig(['fire', '--event', 'push', '--from-git', '--payload', 'x.json'], { cwd: client, env: ENV });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--from-git builds the payload/);
  });

  it('uninstall removes its hooks and restores the chained one exactly', () => {
    expect(trig(['hooks', 'uninstall', '--repo', client]).code).toBe(0);
    const hook = path.join(client, '.git/hooks/post-commit');
    expect(readFileSync(hook, 'utf8')).toBe(CHAINED_POST_COMMIT);
    expect(statSync(hook).mode & 0o777).toBe(0o750);
    expect(existsSync(`${hook}.trig-chained`)).toBe(false);
    expect(existsSync(path.join(client, '.git/hooks/pre-push'))).toBe(false);
    write(path.join(client, 'c.txt'), 'c\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'c');
    expect(takeLog()).toEqual(['chained post-commit 0']);
  });
});
