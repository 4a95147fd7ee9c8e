// A push that deletes a branch or tag starts no `push` definition: there is no commit to
// run on, and GitHub fires `delete` for it instead. Checked on a real GitHub delivery and
// on a real git push to a bare repository with trig's post-receive hook.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GIT_TEST_ENV } from '../helpers/git.js';
import { trig } from '../helpers/trig.js';

interface FireJson {
  definitions: { name: string; matched: boolean; reason: string }[];
}

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];
const pushes = examples.find((e) => e.name === 'push')!.examples;

function fireDeliveries(delivery: unknown): FireJson {
  const result = trig(['fire', '--dry-run', '--json', '--defs', 'fixtures/github', '--event', 'push', '--payload', '-'], {
    input: JSON.stringify(delivery),
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as FireJson;
}

describe('a push that deletes a ref', () => {
  it('a real GitHub delivery of a deleted tag (deleted: true) starts nothing, and says why', () => {
    const deleted = pushes.find((p) => p.deleted === true && p.ref === 'refs/tags/simple-tag')!;
    expect(deleted.after).toMatch(/^0+$/);
    const out = fireDeliveries(deleted);
    expect(out.definitions.filter((d) => d.matched)).toEqual([]);
    expect(out.definitions.find((d) => d.name === 'push-tag')!.reason).toBe(
      'push: the push deletes "refs/tags/simple-tag" (GitHub fires "delete" for that, not "push")',
    );
    // The same tag created does match: only the deletion is refused.
    const created = pushes.find((p) => p.created === true && p.ref === 'refs/tags/simple-tag')!;
    expect(
      fireDeliveries(created)
        .definitions.filter((d) => d.matched)
        .map((d) => d.name),
    ).toEqual(['push-tag']);
  });

  it('a branch deletion, by deleted: true or by an all-zero after alone, starts nothing', () => {
    const branch = pushes.find((p) => p.ref === 'refs/heads/master')!;
    const deleted = {
      ...structuredClone(branch),
      deleted: true,
      after: '0000000000000000000000000000000000000000',
      head_commit: null,
      commits: [],
    };
    expect(fireDeliveries(deleted).definitions.filter((d) => d.matched)).toEqual([]);
    const zeroAfter = { ...structuredClone(branch), after: '0000000000000000000000000000000000000000' };
    expect(fireDeliveries(zeroAfter).definitions.filter((d) => d.matched)).toEqual([]);
    const flagOnly = { ...structuredClone(branch), deleted: true };
    expect(fireDeliveries(flagOnly).definitions.filter((d) => d.matched)).toEqual([]);
    // A flat payload says it the same way.
    const flat = trig(
      ['fire', '--dry-run', '--explain', '--defs', 'fixtures/github/push-branch.yaml', '--event', 'push', '--payload', '-'],
      {
        input: JSON.stringify({ ref: 'refs/heads/master', branch: 'master', after: '0000000000000000000000000000000000000000' }),
      },
    );
    expect(flat.stdout).toBe(
      'fixtures/github/push-branch.yaml: push-branch: not matched: push: the push deletes "refs/heads/master" (GitHub fires "delete" for that, not "push")\n',
    );
  });

  it('git push origin :branch to a bare repository with post-receive starts nothing', () => {
    const temp = mkdtempSync(path.join(os.tmpdir(), 'trig-push-delete-'));
    const log = path.join(temp, 'runs.log');
    const server = path.join(temp, 'server.git');
    const client = path.join(temp, 'client');
    const git = (cwd: string, ...args: string[]) => {
      const result = spawnSync('git', args, { cwd, env: { ...GIT_TEST_ENV, TRIG_HOOK_ACTIVE: undefined }, encoding: 'utf8' });
      expect(result.status, `git ${args.join(' ')}: ${result.stderr}`).toBe(0);
    };
    git(temp, 'init', '-q', '--bare', '-b', 'main', server);
    git(temp, 'init', '-q', '-b', 'main', client);
    mkdirSync(path.join(client, '.harness'));
    writeFileSync(
      path.join(client, '.harness', 'any.yaml'),
      [
        'version: 1',
        'pipeline:',
        '  name: any-push',
        '  on: push',
        '  stages:',
        '    - steps:',
        '        - run:',
        '            shell: sh',
        `            script: echo "run <+trigger.branch> <+trigger.after>" >> '${log}'`,
      ].join('\n'),
    );
    git(client, 'add', '-A');
    git(client, 'commit', '-q', '-m', 'root');
    expect(trig(['hooks', 'install'], { cwd: server }).code).toBe(0);
    git(client, 'push', '-q', server, 'main:feature');
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: client, encoding: 'utf8' }).stdout.trim();
    // The hook works: creating the branch ran the definition once.
    expect(readFileSync(log, 'utf8')).toBe(`run feature ${head}\n`);
    git(client, 'push', '-q', server, ':feature');
    expect(readFileSync(log, 'utf8')).toBe(`run feature ${head}\n`);
    expect(existsSync(path.join(server, 'refs/heads/feature'))).toBe(false);
  });
});
