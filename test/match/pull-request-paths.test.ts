import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { triggerEntries } from '../../src/load/triggers.js';
import { buildTriggerContexts } from '../../src/match/context.js';
import { createMatcher } from '../../src/match/match.js';

// GitHub's pull request deliveries list no changed files: a path filter passes only on
// the `changedFiles` array the sender adds, as the pull-request-paths rule tells.
type Payload = Record<string, unknown>;
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Payload[] }[];
const opened = definitions.find((d) => d.name === 'pull_request')!.examples.find((p) => p.action === 'opened')!;
const base = ((opened.pull_request as Payload).base as Payload).ref as string;

function reason(payload: Payload): string {
  const on = [{ pull_request: { branches: [base], paths: ['src/**'] } }];
  return createMatcher({ at: new Date() }).match(triggerEntries(on), buildTriggerContexts('pull_request', payload)).reason;
}

describe('path filters on a pull_request delivery', () => {
  it('never pass on the delivery as GitHub sends it', () => {
    expect(reason(opened)).toBe('paths: the event carries no changed files ("changedFiles"), so a path filter cannot pass');
  });

  it('pass on the changedFiles array the sender adds to it', () => {
    expect(reason({ ...opened, changedFiles: ['src/a.ts', 'README.md'] })).toBe('matched on: pull_request {branches, paths}');
    expect(reason({ ...opened, changedFiles: ['README.md'] })).toBe('paths: the changed file "README.md" matched none of [src/**]');
  });
});
