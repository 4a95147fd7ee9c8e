import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isGithubDelivery, normalizeGithubPayload } from '../../src/match/github.js';

type Payload = Record<string, any>;
interface Definition {
  name: string;
  examples: Payload[];
}

// The package exposes the examples as its JSON `main`: one definition per event.
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
const examplesOf = (name: string): Payload[] => definitions.find((d) => d.name === name)!.examples;

describe('every published example', () => {
  it('is read (sanity check on the package shape)', () => {
    expect(definitions.length).toBeGreaterThan(50);
    expect(examplesOf('push').length).toBeGreaterThan(0);
  });

  for (const def of definitions) {
    it(`${def.name}: normalises to repo and action, or is not a repository delivery`, () => {
      for (const example of def.examples) {
        const fields = normalizeGithubPayload(def.name, example);
        if (typeof example.repository?.full_name !== 'string') {
          expect(fields).toBeUndefined();
          continue;
        }
        expect(fields).toBeDefined();
        expect(fields!.repo).toBe(example.repository.full_name);
        expect(fields!.repoName).toBe(example.repository.name);
        expect(fields!.repoNamespace).toBe(example.repository.owner.login);
        if (typeof example.action === 'string') expect(fields!.action).toBe(example.action);
        else expect(fields).not.toHaveProperty('action');
        if (example.sender) expect(fields!.sender).toBe(example.sender.login);
        expect(Object.values(fields!)).not.toContain(undefined);
      }
    });
  }
});

describe('push', () => {
  const pushes = examplesOf('push');

  it('every example: ref split into branch or tag, changed files the union over commits', () => {
    for (const p of pushes) {
      const fields = normalizeGithubPayload('push', p)!;
      const ref: string = p.ref;
      if (ref.startsWith('refs/heads/')) {
        expect(fields.branch).toBe(ref.replace('refs/heads/', ''));
        expect(fields).not.toHaveProperty('tag');
      } else {
        expect(fields.tag).toBe(ref.replace('refs/tags/', ''));
        expect(fields).not.toHaveProperty('branch');
      }
      const union = [...new Set(p.commits.flatMap((c: Payload) => [...c.added, ...c.modified, ...c.removed]))].sort();
      expect([...(fields.changedFiles as string[])].sort()).toEqual(union);
      expect(fields.before).toBe(p.before);
      expect(fields.after).toBe(p.after);
      if (p.head_commit) {
        expect(fields.commitSha).toBe(p.after);
        expect(fields.commitMessage).toBe(p.head_commit.message);
      }
    }
  });

  it('a branch push with a commit, exactly', () => {
    const p = pushes.find((x) => x.ref === 'refs/heads/master')!;
    expect(normalizeGithubPayload('push', p)).toEqual({
      repo: 'Codertocat/Hello-World',
      repoName: 'Hello-World',
      repoNamespace: 'Codertocat',
      sender: 'Codertocat',
      branch: 'master',
      commitSha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      before: p.before,
      after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      changedFiles: ['README.md'],
      commitMessage: p.head_commit.message,
      author: 'Codertocat',
    });
  });

  it('a tag deletion carries no commit sha', () => {
    const p = pushes.find((x) => x.ref === 'refs/tags/simple-tag' && x.head_commit === null)!;
    const fields = normalizeGithubPayload('push', p)!;
    expect(fields.tag).toBe('simple-tag');
    expect(fields).not.toHaveProperty('commitSha');
    expect(fields.after).toBe('0000000000000000000000000000000000000000');
    expect(fields.changedFiles).toEqual([]);
  });

  it('de-duplicates files touched by several commits', () => {
    const base = pushes.find((x) => x.ref === 'refs/heads/master')!;
    const p = {
      ...base,
      commits: [
        { ...base.commits[0], added: ['a.ts'], modified: ['b.ts'], removed: [] },
        { ...base.commits[0], added: [], modified: ['a.ts', 'c.ts'], removed: ['b.ts'] },
      ],
    };
    expect(normalizeGithubPayload('push', p)!.changedFiles).toEqual(['a.ts', 'b.ts', 'c.ts']);
  });
});

describe('pull_request', () => {
  it('every example: base branch as branch, head ref as source', () => {
    for (const p of examplesOf('pull_request')) {
      for (const event of ['pull_request', 'pull_request_target']) {
        const fields = normalizeGithubPayload(event, p)!;
        expect(fields.pullReq).toBe(p.number);
        expect(fields.branch).toBe(p.pull_request.base.ref);
        expect(fields.targetBranch).toBe(p.pull_request.base.ref);
        expect(fields.sourceBranch).toBe(p.pull_request.head.ref);
        expect(fields.commitSha).toBe(p.pull_request.head.sha);
        expect(fields.prTitle).toBe(p.pull_request.title);
        expect(fields.action).toBe(p.action);
      }
    }
  });

  it('an opened pull request, exactly', () => {
    const p = examplesOf('pull_request').find((x) => x.action === 'opened')!;
    expect(normalizeGithubPayload('pull_request', p)).toEqual({
      repo: 'Codertocat/Hello-World',
      repoName: 'Hello-World',
      repoNamespace: 'Codertocat',
      action: 'opened',
      sender: p.sender.login,
      pullReq: 2,
      branch: 'master',
      sourceBranch: 'changes',
      targetBranch: 'master',
      prTitle: 'Update the README with new information.',
      commitSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
    });
  });
});

describe('comments', () => {
  it('every issue_comment example: body, and pullReq only on pull requests', () => {
    for (const p of examplesOf('issue_comment')) {
      const fields = normalizeGithubPayload('issue_comment', p)!;
      expect(fields.commentBody).toBe(p.comment.body);
      if (p.issue.pull_request) expect(fields.pullReq).toBe(p.issue.number);
      else expect(fields).not.toHaveProperty('pullReq');
    }
  });

  it('an issue comment on a pull request carries the pull request number', () => {
    const base = examplesOf('issue_comment')[0]!;
    const p = { ...base, issue: { ...base.issue, number: 7, pull_request: { url: 'https://api.github.com/repos/o/r/pulls/7' } } };
    expect(normalizeGithubPayload('issue_comment', p)).toMatchObject({ commentBody: base.comment.body, pullReq: 7 });
  });

  it('review comments take the number from pull_request', () => {
    for (const p of examplesOf('pull_request_review_comment')) {
      expect(normalizeGithubPayload('pull_request_review_comment', p)).toMatchObject({ pullReq: 2, commentBody: p.comment.body });
    }
    for (const p of examplesOf('pull_request_review')) {
      expect(normalizeGithubPayload('pull_request_review', p)!.pullReq).toBe(p.pull_request.number);
    }
  });

  it('discussion comments carry the body and no pull request', () => {
    const p = examplesOf('discussion_comment')[0]!;
    const fields = normalizeGithubPayload('discussion_comment', p)!;
    expect(fields.commentBody).toBe('I have so many questions to ask you!');
    expect(fields).not.toHaveProperty('pullReq');
  });
});

describe('create and delete', () => {
  it('tags from the examples, branches by ref_type', () => {
    for (const event of ['create', 'delete']) {
      for (const p of examplesOf(event)) {
        expect(normalizeGithubPayload(event, p)).toMatchObject({ tag: 'simple-tag' });
      }
      const p = { ...examplesOf(event)[0]!, ref: 'feature/x', ref_type: 'branch' };
      const fields = normalizeGithubPayload(event, p)!;
      expect(fields.branch).toBe('feature/x');
      expect(fields).not.toHaveProperty('tag');
    }
  });
});

describe('flat payloads', () => {
  it.each([{ repo: 'my-service', branch: 'main', executionId: 'abc123' }, { repository: 'my-service' }, { repository: { name: 'r' } }, {}])(
    '%j is not a GitHub delivery',
    (payload) => {
      expect(isGithubDelivery(payload)).toBe(false);
      expect(normalizeGithubPayload('pipeline_failed', payload)).toBeUndefined();
    },
  );
});
