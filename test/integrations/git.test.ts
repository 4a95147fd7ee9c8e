import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GIT_TEST_ENV } from '../helpers/git.js';
import { hookUpdates } from '../../src/integrations/git/hook-events.js';
import {
  CHAINED_SUFFIX,
  HookInstallError,
  hookRepo,
  hookScript,
  HookSelectionError,
  installHooks,
  isTrigHook,
  selectHooks,
  uninstallHooks,
} from '../../src/integrations/git/hooks.js';
import { localRemotePath } from '../../src/integrations/git/run-hook.js';
import { buildPushPayload, payloadFromGit, repoBasename } from '../../src/integrations/git/payload.js';

const ENV = GIT_TEST_ENV;

const temp = mkdtempSync(path.join(os.tmpdir(), 'trig-git-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd, env: ENV, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

let counter = 0;
function newRepo(name = `repo${++counter}`): string {
  const dir = path.join(temp, name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  return dir;
}

function commit(dir: string, files: Record<string, string>, message: string): string {
  for (const [file, text] of Object.entries(files)) write(path.join(dir, file), text);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

describe('the push payload', () => {
  it('gives a root commit its own files and a later commit the difference', () => {
    const dir = newRepo('my-project');
    const root = commit(dir, { 'a.txt': 'a', 'src/b.ts': 'b' }, 'first\n\nwith a body');
    const p1 = payloadFromGit({ cwd: dir, env: ENV });
    expect(p1).toEqual({
      repo: 'my-project',
      ref: 'refs/heads/main',
      branch: 'main',
      before: '0'.repeat(40),
      after: root,
      commitSha: root,
      commitMessage: 'first\n\nwith a body',
      author: 'Ada Lovelace',
      changedFiles: ['a.txt', 'src/b.ts'],
    });
    mkdirSync(path.join(dir, 'docs'));
    git(dir, 'mv', 'a.txt', 'docs/a.md');
    const second = commit(dir, { 'src/b.ts': 'b2', 'späce name.txt': 'x' }, 'second');
    const p2 = payloadFromGit({ cwd: dir, env: ENV });
    expect(p2.before).toBe(root);
    expect(p2.after).toBe(second);
    // A rename is both a removed and an added file, as GitHub lists them.
    expect(p2.changedFiles.sort()).toEqual(['a.txt', 'docs/a.md', 'späce name.txt', 'src/b.ts']);
    expect(payloadFromGit({ cwd: dir, before: root, after: root, env: ENV }).changedFiles).toEqual([]);
  });

  it('names tags, peels annotated tags to their commit and reads the repo from origin', () => {
    const dir = newRepo();
    const first = commit(dir, { 'a.txt': 'a' }, 'one');
    const second = commit(dir, { 'b.txt': 'b' }, 'two');
    git(dir, 'tag', '-a', '-m', 'release', 'v1.0', second);
    git(dir, 'remote', 'add', 'origin', 'git@example.com:team/service.git');
    const tagObject = git(dir, 'rev-parse', 'v1.0');
    const payload = payloadFromGit({ cwd: dir, after: 'v1.0', env: ENV });
    expect(payload).toMatchObject({
      repo: 'service',
      ref: 'refs/tags/v1.0',
      tag: 'v1.0',
      after: tagObject,
      commitSha: second,
      before: first,
      changedFiles: ['b.txt'],
    });
    expect(payload.branch).toBeUndefined();
    // A before the repository does not have: the commit's own files.
    const unknown = buildPushPayload({ cwd: dir, after: second, before: 'f'.repeat(40), ref: 'refs/heads/x', env: ENV });
    expect(unknown).toMatchObject({ branch: 'x', before: 'f'.repeat(40), changedFiles: ['b.txt'] });
    expect(() => payloadFromGit({ cwd: dir, after: 'no-such-rev', env: ENV })).toThrow(/not a commit/);
    expect(() => payloadFromGit({ cwd: dir, after: '--output=/tmp/x', env: ENV })).toThrow(/not a revision/);
  });

  it('takes the repository name from a URL or directory', () => {
    expect(repoBasename('https://github.com/o/name.git')).toBe('name');
    expect(repoBasename('git@host:o/name.git')).toBe('name');
    expect(repoBasename('/srv/git/name.git/')).toBe('name');
    expect(repoBasename('name')).toBe('name');
  });
});

describe('hook updates', () => {
  const dir = newRepo();
  const first = commit(dir, { 'a.txt': 'a' }, 'one');
  const second = commit(dir, { 'b.txt': 'b' }, 'two');
  const options = { cwd: dir, env: ENV };
  const zero = '0'.repeat(40);

  it('post-commit fires for the current branch only; a branch switch (post-checkout) is not a push', () => {
    expect(hookUpdates('post-commit', [], '', options)).toEqual([{ ref: 'refs/heads/main', before: first, after: second }]);
    expect(hookUpdates('post-checkout', [first, second, '1'], '', options)).toEqual([]);
    expect(hookUpdates('post-checkout', [first, second, '0'], '', options)).toEqual([]);
    git(dir, 'checkout', '-q', '--detach');
    expect(hookUpdates('post-commit', [], '', options)).toEqual([]);
    git(dir, 'checkout', '-q', 'main');
  });

  it('pre-push and post-receive read the refs from standard input and skip deletions', () => {
    const prePush = `refs/heads/main ${second} refs/heads/release ${first}\nrefs/tags/v1 ${second} refs/tags/v1 ${zero}\n(delete) ${zero} refs/heads/old ${first}\n`;
    expect(hookUpdates('pre-push', ['origin', 'url'], prePush, options)).toEqual([
      { ref: 'refs/heads/release', before: first, after: second },
      { ref: 'refs/tags/v1', after: second },
    ]);
    const postReceive = `${first} ${second} refs/heads/main\n${zero} ${second} refs/tags/v2\n${first} ${zero} refs/heads/gone\n`;
    expect(hookUpdates('post-receive', [], postReceive, options)).toEqual([
      { ref: 'refs/heads/main', before: first, after: second },
      { ref: 'refs/tags/v2', after: second },
    ]);
  });
});

describe('installing hooks', () => {
  const script = { node: '/usr/bin/node', trig: '/opt/trig/bin/trig' };

  it('writes the client hooks, chains an existing hook and restores it byte for byte, mode included', () => {
    const dir = newRepo();
    const repo = hookRepo({ cwd: dir, env: ENV });
    expect(repo).toEqual({ hooksDir: path.join(dir, '.git', 'hooks'), bare: false });
    const existing = path.join(repo.hooksDir, 'post-commit');
    const original = '#!/bin/sh\n# mine\necho mine\n';
    writeFileSync(existing, original);
    chmodSync(existing, 0o741);

    const all = { ...script, hooks: ['post-commit', 'post-merge', 'pre-push'] as const };
    const first = installHooks(repo, all);
    expect(first.map((r) => [r.hook, r.change])).toEqual([
      ['post-commit', 'chained'],
      ['post-merge', 'installed'],
      ['pre-push', 'installed'],
    ]);
    expect(readFileSync(existing + CHAINED_SUFFIX, 'utf8')).toBe(original);
    expect(readFileSync(existing, 'utf8')).toBe(hookScript('post-commit', script));
    expect(statSync(existing).mode & 0o777).toBe(0o755);
    const snapshot = readFileSync(path.join(repo.hooksDir, 'pre-push'), 'utf8');
    expect(installHooks(repo, all).every((r) => r.change === 'unchanged')).toBe(true);
    expect(readFileSync(existing + CHAINED_SUFFIX, 'utf8')).toBe(original);
    // A different option rewrites trig's own hook only.
    expect(
      installHooks(repo, { ...all, blockOnFailure: true })
        .filter((r) => r.change !== 'unchanged')
        .map((r) => r.hook),
    ).toEqual(['pre-push']);
    expect(readFileSync(path.join(repo.hooksDir, 'pre-push'), 'utf8')).not.toBe(snapshot);

    expect(uninstallHooks(repo).map((r) => [r.hook, r.change])).toEqual([
      ['post-commit', 'restored'],
      ['post-merge', 'removed'],
      ['pre-push', 'removed'],
    ]);
    expect(readFileSync(existing, 'utf8')).toBe(original);
    expect(statSync(existing).mode & 0o777).toBe(0o741);
    for (const hook of ['post-merge', 'post-checkout', 'pre-push', `post-commit${CHAINED_SUFFIX}`]) {
      expect(() => statSync(path.join(repo.hooksDir, hook))).toThrow();
    }
  });

  it('follows core.hooksPath, and installs post-receive in a bare repository', () => {
    const dir = newRepo();
    git(dir, 'config', 'core.hooksPath', 'ci/hooks');
    const repo = hookRepo({ cwd: dir, env: ENV });
    expect(repo.hooksDir).toBe(path.join(dir, 'ci', 'hooks'));
    installHooks(repo, script);
    expect(isTrigHook(path.join(dir, 'ci', 'hooks', 'pre-push'))).toBe(true);

    const bare = path.join(temp, 'server.git');
    spawnSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env: ENV });
    const server = hookRepo({ cwd: bare, env: ENV });
    expect(server).toEqual({ hooksDir: path.join(bare, 'hooks'), bare: true });
    expect(installHooks(server, script).map((r) => r.hook)).toEqual(['post-receive']);
    expect(uninstallHooks(server).map((r) => [r.hook, r.change])).toEqual([['post-receive', 'removed']]);
  });

  it('refuses to install over a foreign hook when its chained name is taken, and leaves foreign hooks at uninstall', () => {
    const dir = newRepo();
    const repo = hookRepo({ cwd: dir, env: ENV });
    const hook = path.join(repo.hooksDir, 'post-merge');
    writeFileSync(hook, '#!/bin/sh\necho foreign\n');
    writeFileSync(hook + CHAINED_SUFFIX, '#!/bin/sh\necho older\n');
    expect(() => installHooks(repo, { ...script, hooks: ['post-merge'] })).toThrow(HookInstallError);
    rmSync(hook + CHAINED_SUFFIX);
    const results = uninstallHooks(repo);
    expect(results.find((r) => r.hook === 'post-merge')?.change).toBe('foreign');
    expect(readFileSync(hook, 'utf8')).toBe('#!/bin/sh\necho foreign\n');
  });

  it('installs pre-push alone by default, and removes the trig hooks not chosen', () => {
    const dir = newRepo();
    const repo = hookRepo({ cwd: dir, env: ENV });
    expect(installHooks(repo, { ...script, hooks: ['post-commit', 'pre-push'] }).map((r) => [r.hook, r.change])).toEqual([
      ['post-commit', 'installed'],
      ['pre-push', 'installed'],
    ]);
    expect(installHooks(repo, script).map((r) => [r.hook, r.change])).toEqual([
      ['post-commit', 'removed'],
      ['pre-push', 'unchanged'],
    ]);
  });

  it('reads --hooks lists against what the repository takes', () => {
    const repo = hookRepo({ cwd: newRepo(), env: ENV });
    expect(selectHooks(repo, ' pre-push , post-commit,pre-push')).toEqual(['pre-push', 'post-commit']);
    expect(() => selectHooks(repo, 'post-comit')).toThrow(
      '--hooks: unknown hook "post-comit"; did you mean "post-commit"? (a clone takes post-commit, post-merge, pre-push)',
    );
    expect(() => selectHooks({ ...repo, bare: true }, 'post-commit')).toThrow(HookSelectionError);
  });

  it('writes a pre-push that blocks only when asked', () => {
    expect(hookScript('pre-push', script)).toContain('hooks run pre-push -- "$@" <"$input" || :');
    expect(hookScript('pre-push', { ...script, blockOnFailure: true })).toContain(
      'hooks run pre-push --block-on-failure -- "$@" <"$input" || exit 1',
    );
    expect(hookScript('post-commit', script)).not.toContain('$input');
    expect(hookScript('post-commit', { node: '/n o/node', trig: "/it's/trig" })).toContain(
      `if [ -x '/n o/node' ] && [ -f '/it'\\''s/trig' ]`,
    );
  });
});

describe('remote URLs on this machine', () => {
  it('are paths and file:// URLs; ssh, scp-like and other URLs are not', () => {
    expect(localRemotePath('../server.git', '/work/clone')).toBe('/work/server.git');
    expect(localRemotePath('/srv/repo.git', '/work/clone')).toBe('/srv/repo.git');
    expect(localRemotePath('file:///srv/my%20repo.git', '/work/clone')).toBe('/srv/my repo.git');
    expect(localRemotePath('git@github.com:o/r.git', '/work/clone')).toBeUndefined();
    expect(localRemotePath('ssh://host/srv/r.git', '/work/clone')).toBeUndefined();
    expect(localRemotePath('https://github.com/o/r.git', '/work/clone')).toBeUndefined();
  });
});
