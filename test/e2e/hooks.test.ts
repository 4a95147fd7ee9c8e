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
import { shellDefinition } from '../helpers/definition.js';

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
  return shellDefinition(
    name,
    ['- push:', ...filter.split('\n').map((l) => `    ${l}`)],
    [
      `echo "${name} $TRIG_HOOK_ACTIVE <+trigger.repo> b=<+trigger.branch> t=<+trigger.tag> <+trigger.changedFiles>" >> '${LOG}'`,
      ...(extra ? [extra] : []),
    ],
  );
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
  // Every client hook trig has, so that each is seen at work; the defaults are below.
  expect(trig(['hooks', 'install', '--repo', client, '--hooks', 'post-commit,post-merge,pre-push']).code).toBe(0);
  expect(trig(['hooks', 'install'], { cwd: server }).code).toBe(0);
});

afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('trig hooks', () => {
  it('installs the client hooks next to the existing one, and install twice changes nothing', () => {
    const again = trig(['hooks', 'install', '--repo', client, '--hooks', 'pre-push, post-merge,post-commit']);
    expect(again.stdout).toBe(
      [
        'post-commit: unchanged',
        'post-merge: unchanged',
        'pre-push: unchanged',
        `hooks directory: ${path.join(client, '.git/hooks')}`,
        '',
      ].join('\n'),
    );
    expect(readFileSync(path.join(client, '.git/hooks/post-commit.trig-chained'), 'utf8')).toBe(CHAINED_POST_COMMIT);
  });

  it('fires on the root commit with its own files, after running the chained hook', () => {
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'root');
    const files = JSON.stringify([
      '.harness/broken.yaml',
      '.harness/docs.yaml',
      '.harness/feature.yaml',
      '.harness/main.yaml',
      '.harness/tags.yaml',
      'README.md',
      'docs/intro.md',
    ]);
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

  it('fires nothing for a branch switch (not a push) or a checkout of files', () => {
    ok(client, 'switch', '-q', '-c', 'feature/x');
    expect(takeLog()).toEqual([]);
    write(path.join(client, 'docs/guide.md'), 'guide\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'guide');
    expect(takeLog()).toEqual([
      'chained post-commit 0',
      'docs post-commit server b=feature/x t= ["docs/guide.md"]',
      'feature post-commit server b=feature/x t= ["docs/guide.md"]',
    ]);
    write(path.join(client, 'README.md'), 'changed\n');
    ok(client, 'checkout', '--', 'README.md');
    expect(takeLog()).toEqual([]);
    ok(client, 'switch', '-q', 'main');
    expect(takeLog()).toEqual([]);
  });

  it('fires post-merge with the files the merge brought in', () => {
    ok(client, 'merge', '-q', '--no-ff', '-m', 'merge feature', 'feature/x');
    expect(takeLog()).toEqual([
      'docs post-merge server b=main t= ["docs/guide.md"]',
      'main-push post-merge server b=main t= ["docs/guide.md"]',
    ]);
  });

  it('fires post-receive on the server, which reads the pushed definitions; pre-push leaves the push to it', () => {
    // The server learns of a new definition only from the pushed commit (committed without
    // the client's hooks: a commit that post-commit has fired is not run again when pushed).
    write(
      path.join(client, '.harness/server-only.yaml'),
      definition('pushed-def', 'branches: [main]\npaths: [".harness/server-only.yaml"]'),
    );
    ok(client, 'add', '-A');
    ok(client, '-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-m', 'add a definition');
    takeLog();
    const push = git(client, 'push', '-q', 'origin', 'main');
    expect(push.code, push.out).toBe(0);
    // A new branch on the server: the pushed commit's own files.
    expect(takeLog()).toEqual([
      'main-push post-receive server b=main t= [".harness/server-only.yaml"]',
      'pushed-def post-receive server b=main t= [".harness/server-only.yaml"]',
    ]);
    // The next push compares with what the server had.
    write(path.join(client, 'docs/more.md'), 'more\n');
    ok(client, 'add', '-A');
    ok(client, '-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-m', 'more docs');
    takeLog();
    expect(git(client, 'push', '-q', 'origin', 'main').code).toBe(0);
    expect(takeLog()).toEqual([
      'docs post-receive server b=main t= ["docs/more.md"]',
      'main-push post-receive server b=main t= ["docs/more.md"]',
    ]);
  });

  it('runs a definition once per ref update: what post-commit ran, the push does not run again on the server', () => {
    write(path.join(client, 'docs/once.md'), 'once\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'once');
    expect(takeLog()).toEqual([
      'chained post-commit 0',
      'docs post-commit server b=main t= ["docs/once.md"]',
      'main-push post-commit server b=main t= ["docs/once.md"]',
    ]);
    const push = git(client, 'push', '-q', 'origin', 'main');
    expect(push.code, push.out).toBe(0);
    expect(push.out).toBe('');
    expect(takeLog()).toEqual([]);
  });

  it('fires for a pushed tag', () => {
    write(path.join(client, 'src/app.ts'), 'app 2\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'release');
    takeLog();
    ok(client, 'tag', '-a', '-m', 'release 1.0', 'v1.0');
    expect(git(client, 'push', '-q', 'origin', 'v1.0').code).toBe(0);
    // As on GitHub, paths filters are not evaluated for tag pushes: docs runs too, main-push does not.
    expect(takeLog()).toEqual(['docs post-receive server b= t=v1.0 ["src/app.ts"]', 'tags post-receive server b= t=v1.0 ["src/app.ts"]']);
  });

  it('lets a failing run block a push only with --block-on-failure', () => {
    ok(client, 'switch', '-q', '-c', 'broken');
    takeLog();
    const allowed = git(client, 'push', '-q', 'origin', 'broken');
    expect(allowed.code, allowed.out).toBe(0);
    // The server's post-receive ran it, after the push: it can only report the failure.
    expect(allowed.out).toMatch(/remote: trig: post-receive: refs\/heads\/broken: a run failed/);
    expect(takeLog()).toEqual(['broken post-receive server b=broken t= ["src/app.ts"]']);

    // A pre-push that may refuse the push runs the definitions itself, before the push.
    expect(
      trig(['hooks', 'install', '--repo', client, '--hooks', 'post-commit,post-merge,pre-push', '--block-on-failure']).stdout,
    ).toContain('pre-push: updated');
    write(path.join(client, 'b.txt'), 'b\n');
    ok(client, 'add', '-A');
    ok(client, 'commit', '-q', '-m', 'b');
    const before = sha('refs/heads/broken', server);
    const blocked = git(client, 'push', '-q', 'origin', 'broken');
    expect(blocked.code).not.toBe(0);
    expect(sha('refs/heads/broken', server)).toBe(before);
    // pre-push does not run `broken` again for the commit post-commit ran it for; that run failed, so the push is refused.
    expect(blocked.out).toMatch(/trig: pre-push: refs\/heads\/broken: a run failed or did not start/);
    expect(takeLog()).toEqual(['broken post-commit server b=broken t= ["b.txt"]', 'chained post-commit 0']);
    ok(client, 'switch', '-q', 'main');
    takeLog();
  });

  it('builds the same payload for trig fire --from-git', () => {
    const result = trig(['fire', '--event', 'push', '--from-git', '--before', 'HEAD~3', '--quiet'], { cwd: client, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(takeLog()).toEqual([
      'docs  server b=main t= ["docs/more.md","docs/once.md","src/app.ts"]',
      'main-push  server b=main t= ["docs/more.md","docs/once.md","src/app.ts"]',
    ]);
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

// What `trig hooks install` sets without --hooks: pre-push in a clone, post-receive in a
// bare repository. One commit, pushed, runs a definition once.
describe('trig hooks defaults', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'trig-hooks-defaults-'));
  const runs = path.join(root, 'runs.log');
  const clone = path.join(root, 'clone');
  const origin = path.join(root, 'origin.git');
  const plain = path.join(root, 'plain.git');
  const lines = (): string[] => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean) : []);

  beforeAll(() => {
    ok(root, 'init', '-q', '--bare', '-b', 'main', origin);
    ok(root, 'init', '-q', '--bare', '-b', 'main', plain);
    ok(root, 'init', '-q', '-b', 'main', clone);
    ok(clone, 'remote', 'add', 'origin', origin);
    ok(clone, 'remote', 'add', 'plain', plain);
    write(
      path.join(clone, '.harness/any.yaml'),
      [
        'version: 1',
        'pipeline:',
        '  name: any',
        '  on: push',
        '  stages:',
        '    - steps:',
        '        - run:',
        '            shell: sh',
        `            script: echo "ran by $TRIG_HOOK_ACTIVE" >> '${runs}'`,
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('installs pre-push in a clone and post-receive in a bare repository, removing hooks an earlier trig installed', () => {
    // A post-checkout hook as earlier versions of trig wrote it.
    write(path.join(clone, '.git/hooks/post-checkout'), '#!/bin/sh\n# trig-hook: written by `trig hooks install`\nexit 0\n');
    expect(trig(['hooks', 'install', '--repo', clone]).stdout).toBe(
      ['pre-push: installed', 'post-checkout: removed', `hooks directory: ${path.join(clone, '.git/hooks')}`, ''].join('\n'),
    );
    expect(existsSync(path.join(clone, '.git/hooks/post-checkout'))).toBe(false);
    expect(trig(['hooks', 'install', '--repo', origin]).stdout).toBe(
      ['post-receive: installed', `hooks directory: ${path.join(origin, 'hooks')}`, ''].join('\n'),
    );
  });

  it('a commit and a branch switch start nothing; pushing to a remote with trig runs the definition exactly once', () => {
    ok(clone, 'add', '-A');
    ok(clone, 'commit', '-q', '-m', 'root');
    ok(clone, 'checkout', '-q', '-b', 'topic');
    ok(clone, 'checkout', '-q', 'main');
    expect(lines()).toEqual([]);
    const push = git(clone, 'push', '-q', 'origin', 'main');
    expect(push.code, push.out).toBe(0);
    expect(lines()).toEqual(['ran by post-receive']);
  });

  it('pushing to a remote without trig runs it once, from pre-push', () => {
    write(path.join(clone, 'a.txt'), 'a\n');
    ok(clone, 'add', '-A');
    ok(clone, 'commit', '-q', '-m', 'a');
    expect(git(clone, 'push', '-q', 'plain', 'main').code).toBe(0);
    expect(lines()).toEqual(['ran by post-receive', 'ran by pre-push']);
  });

  it('a post-checkout hook left by an earlier trig fires nothing', () => {
    const result = trig(['hooks', 'run', 'post-checkout', '--', sha('HEAD~1', clone), sha('HEAD', clone), '1'], { cwd: clone, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(lines()).toEqual(['ran by post-receive', 'ran by pre-push']);
  });

  it('--hooks chooses the hooks; a name trig does not install is a one-line usage error', () => {
    const chosen = trig(['hooks', 'install', '--repo', clone, '--hooks', 'post-commit,pre-push']);
    expect(chosen.stdout).toBe(
      ['post-commit: installed', 'pre-push: unchanged', `hooks directory: ${path.join(clone, '.git/hooks')}`, ''].join('\n'),
    );
    const cases: [string, string, string][] = [
      [
        clone,
        'pre-psuh',
        'trig: --hooks: unknown hook "pre-psuh"; did you mean "pre-push"? (a clone takes post-commit, post-merge, pre-push)\n',
      ],
      [
        clone,
        'post-checkout',
        'trig: --hooks: trig does not install post-checkout: a branch switch is not a push (a clone takes post-commit, post-merge, pre-push)\n',
      ],
      [
        clone,
        'pre-push,post-receive',
        'trig: --hooks: post-receive does not go in a clone (a clone takes post-commit, post-merge, pre-push)\n',
      ],
      [origin, 'pre-push', 'trig: --hooks: pre-push does not go in a bare repository (a bare repository takes post-receive)\n'],
      [clone, ',', 'trig: --hooks: name at least one hook (a clone takes post-commit, post-merge, pre-push)\n'],
    ];
    for (const [repo, hooks, message] of cases) {
      const result = trig(['hooks', 'install', '--repo', repo, '--hooks', hooks]);
      expect([result.code, result.stderr, result.stdout]).toEqual([2, message, '']);
    }
    // Nothing changed by the refused installs.
    expect(trig(['hooks', 'install', '--repo', clone, '--hooks', 'post-commit,pre-push']).stdout).toContain('post-commit: unchanged');
  });
});
