import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { triggerEntries } from '../../src/load/triggers.js';
import { buildTriggerContexts } from '../../src/match/context.js';
import { createMatcher } from '../../src/match/match.js';
import * as patterns from '../../src/lang/glob.js';

vi.mock('../../src/lang/glob.js', { spy: true });

type Payload = Record<string, any>;
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Payload[] }[];
const examples = (name: string): Payload[] => definitions.find((d) => d.name === name)!.examples;
const branchPush = examples('push').find((p) => p.ref === 'refs/heads/master')!;
const tagPush = examples('push').find((p) => p.ref === 'refs/tags/simple-tag' && p.head_commit)!;

const MONDAY_9 = new Date('2026-11-23T09:00:00Z');

function decide(on: unknown, event: string, payload: Payload, at = MONDAY_9) {
  return createMatcher({ at }).match(triggerEntries(on), buildTriggerContexts(event, payload));
}

function reason(on: unknown, event: string, payload: Payload, at = MONDAY_9): string {
  return decide(on, event, payload, at).reason;
}

describe('pull_request', () => {
  const pr = (branch: string, action = 'opened') => ({ branch, action, pullReq: 42, repo: 'o/r' });
  const on = [{ pull_request: { branches: ['main', 'release/**'], types: ['opened', 'synchronize'] } }];

  it.each([
    [pr('main'), 'matched on: pull_request {branches, types}'],
    [pr('release/2026/11', 'synchronize'), 'matched on: pull_request {branches, types}'],
    [pr('feature/x'), 'branches: "feature/x" matched none of [main, release/**]'],
    [pr('main', 'closed'), 'types: action "closed" is not one of [opened, synchronize]'],
    [{ branch: 'main' }, 'types: the event carries no "action"'],
    [{ action: 'opened' }, 'branches: the event carries no "branch"'],
  ])('%j → %s', (payload, expected) => {
    expect(reason(on, 'pull_request', payload)).toBe(expected);
  });

  it('without types only the default activity types match', () => {
    for (const event of ['pull_request', 'pull_request_target']) {
      for (const action of ['opened', 'synchronize', 'reopened']) expect(decide(event, event, pr('main', action)).matched).toBe(true);
      expect(reason(event, event, pr('main', 'closed'))).toBe(
        `types: action "closed" is not one of [opened, synchronize, reopened] (the default for ${event})`,
      );
    }
    expect(decide({ pull_request: { types: 'closed' } }, 'pull_request', pr('main', 'closed')).matched).toBe(true);
  });

  it('branches read the base branch of a GitHub delivery', () => {
    const delivery = examples('pull_request').find((p) => p.action === 'opened')!; // base master, head changes
    expect(decide({ pull_request: { branches: ['master'] } }, 'pull_request', delivery).matched).toBe(true);
    expect(reason({ pull_request: { branches: ['changes'] } }, 'pull_request', delivery)).toBe(
      'branches: "master" matched none of [changes]',
    );
  });

  it('negations and re-inclusions in order', () => {
    const list = { pull_request: { branches: ['release/**', '!release/old*', 'release/old-keep'] } };
    expect(decide(list, 'pull_request', pr('release/new')).matched).toBe(true);
    expect(reason(list, 'pull_request', pr('release/old-1'))).toBe('branches: "release/old-1" is excluded by !release/old*');
    expect(decide(list, 'pull_request', pr('release/old-keep')).matched).toBe(true);
  });

  it('branches-ignore', () => {
    const ignore = { pull_request: { 'branches-ignore': ['main', 'dependabot/**'] } };
    expect(reason(ignore, 'pull_request', pr('dependabot/npm/x'))).toBe('branches-ignore: "dependabot/npm/x" is ignored by dependabot/**');
    expect(decide(ignore, 'pull_request', pr('feature/x')).matched).toBe(true);
  });
});

describe('push: branches and tags', () => {
  const branch = (name: string) => ({ branch: name, changedFiles: ['src/a.ts'] });
  const tag = (name: string) => ({ tag: name });

  it.each([
    [{ branches: ['main'] }, tag('v1.0'), 'branches: the event is for tag "v1.0", and this entry filters only branches'],
    [{ 'branches-ignore': ['dev'] }, tag('v1.0'), 'branches-ignore: the event is for tag "v1.0", and this entry filters only branches'],
    [{ tags: ['v*'] }, branch('main'), 'tags: the event is for branch "main", and this entry filters only tags'],
    [{ 'tags-ignore': ['v*'] }, branch('main'), 'tags-ignore: the event is for branch "main", and this entry filters only tags'],
    [{ branches: ['main'], tags: ['v*'] }, branch('main'), 'matched on: push {branches, tags}'],
    [{ branches: ['main'], tags: ['v*'] }, tag('v1.0'), 'matched on: push {branches, tags}'],
    [{ branches: ['main'], tags: ['v*'] }, tag('x1'), 'tags: "x1" matched none of [v*]'],
    [{ branches: ['main'], tags: ['v*'] }, branch('dev'), 'branches: "dev" matched none of [main]'],
    [{ 'branches-ignore': ['main'], tags: ['v[0-9]+.[0-9]+'] }, tag('v10.2'), 'matched on: push {branches-ignore, tags}'],
    [{ 'branches-ignore': ['main'], tags: ['v[0-9]+.[0-9]+'] }, branch('main'), 'branches-ignore: "main" is ignored by main'],
    [{ 'tags-ignore': ['*-rc*'] }, tag('v2-rc1'), 'tags-ignore: "v2-rc1" is ignored by *-rc*'],
    [{ branches: ['main'] }, {}, 'branches: the event carries no "branch"'],
  ])('%j with %j → %s', (filters, payload, expected) => {
    expect(reason({ push: filters }, 'push', payload)).toBe(expected);
  });

  it('an entry without filters takes branch and tag pushes alike', () => {
    expect(decide('push', 'push', branchPush).matched).toBe(true);
    expect(decide('push', 'push', tagPush).matched).toBe(true);
  });

  it('GitHub deliveries: the tag example is not taken by a branch filter', () => {
    expect(decide({ push: { branches: ['master'] } }, 'push', branchPush).matched).toBe(true);
    expect(reason({ push: { branches: ['**'] } }, 'push', tagPush)).toBe(
      'branches: the event is for tag "simple-tag", and this entry filters only branches',
    );
    expect(decide({ push: { tags: ['simple-*'] } }, 'push', tagPush).matched).toBe(true);
  });
});

describe('push: paths', () => {
  const files = (...changedFiles: string[]) => ({ branch: 'main', changedFiles });

  it.each([
    [{ paths: ['src/**'] }, files('src/a.ts', 'README.md'), 'matched on: push {paths}'],
    [{ paths: ['src/**'] }, files('README.md', 'docs/a.md'), 'paths: none of the 2 changed files (README.md, docs/a.md) matched [src/**]'],
    [{ paths: 'src/**' }, files('a', 'b', 'c', 'd'), 'paths: none of the 4 changed files (a, b, c, …) matched [src/**]'],
    [{ paths: ['**.md', '!docs/**'] }, files('docs/a.md'), 'paths: the changed file "docs/a.md" matched none of [**.md, !docs/**]'],
    [{ paths: ['**.md', '!docs/**'] }, files('docs/a.md', 'README.md'), 'matched on: push {paths}'],
    [
      { 'paths-ignore': ['docs/**', '*.md'] },
      files('docs/a.md', 'README.md'),
      'paths-ignore: all 2 changed files (docs/a.md, README.md) are ignored by [docs/**, *.md]',
    ],
    [{ 'paths-ignore': ['docs/**'] }, files('docs/a.md'), 'paths-ignore: the changed file "docs/a.md" is ignored by [docs/**]'],
    [{ 'paths-ignore': ['docs/**', '*.md'] }, files('docs/a.md', 'src/x.ts'), 'matched on: push {paths-ignore}'],
    [{ paths: ['src/**'] }, { branch: 'main' }, 'paths: the event carries no changed files ("changedFiles"), so a path filter cannot pass'],
    [{ paths: ['src/**'] }, files(), 'paths: the event carries no changed files ("changedFiles"), so a path filter cannot pass'],
    [
      { 'paths-ignore': ['docs/**'] },
      files(),
      'paths-ignore: the event carries no changed files ("changedFiles"), so a path filter cannot pass',
    ],
    [{ branches: ['main'], paths: ['src/**'] }, files('docs/x'), 'paths: the changed file "docs/x" matched none of [src/**]'],
    [{ branches: ['dev'], paths: ['src/**'] }, files('src/x'), 'branches: "main" matched none of [dev]'],
  ])('%j with %j → %s', (filters, payload, expected) => {
    expect(reason({ push: filters }, 'push', payload)).toBe(expected);
  });

  it('path filters are not evaluated for tag pushes', () => {
    expect(decide({ push: { tags: ['v*'], paths: ['src/**'] } }, 'push', { tag: 'v1', changedFiles: ['docs/a'] }).matched).toBe(true);
    expect(decide({ push: { paths: ['src/**'] } }, 'push', tagPush).matched).toBe(true);
  });

  it('reads the changed files of a GitHub delivery', () => {
    expect(decide({ push: { paths: ['README.md'] } }, 'push', branchPush).matched).toBe(true);
    expect(reason({ push: { 'paths-ignore': ['*.md'] } }, 'push', branchPush)).toBe(
      'paths-ignore: the changed file "README.md" is ignored by [*.md]',
    );
  });

  it('also applies to pull requests', () => {
    const payload = { branch: 'main', action: 'opened', changedFiles: ['docs/a.md'] };
    expect(reason({ pull_request: { paths: ['src/**'] } }, 'pull_request', payload)).toBe(
      'paths: the changed file "docs/a.md" matched none of [src/**]',
    );
  });
});

describe('types on other GitHub events', () => {
  it.each([
    [{ issues: { types: ['opened', 'labeled'] } }, { action: 'labeled' }, 'matched on: issues {types}'],
    [{ issues: { types: ['opened', 'labeled'] } }, { action: 'closed' }, 'types: action "closed" is not one of [opened, labeled]'],
    [{ issues: { types: 'opened' } }, {}, 'types: the event carries no "action"'],
    ['issues', { action: 'closed' }, 'matched on: issues'],
  ])('%j with %j → %s', (on, payload, expected) => {
    expect(reason(on, 'issues', payload)).toBe(expected);
  });

  it('compares the action of every published release example', () => {
    for (const p of examples('release')) {
      expect(decide({ release: { types: [p.action] } }, 'release', p).matched).toBe(true);
      expect(decide({ release: { types: ['never'] } }, 'release', p).reason).toBe(`types: action "${p.action}" is not one of [never]`);
    }
  });
});

// One row per platform event of the seed's Event Reference: filters, a flat payload
// that matches, a change to it that does not, and the reason given.
const PLATFORM: [event: string, filters: Payload, payload: Payload, change: Payload, expected: string][] = [
  [
    'pipeline_failed',
    { repos: ['my-service'], branches: ['main'], pipelines: ['ci-*'] },
    { repo: 'my-service', branch: 'main', executionId: 'abc123', pipeline: 'ci-build' },
    { branch: 'dev' },
    'branches: "dev" matched none of [main]',
  ],
  [
    'build_failed',
    { repos: ['my-*'], branches: 'release/**' },
    { repo: 'my-service', branch: 'release/1.2', executionId: 'b1' },
    { repo: 'other' },
    'repos: "other" matched none of [my-*]',
  ],
  [
    'test_failed',
    { pipelines: ['nightly', 'ci-*'] },
    { repo: 'r', branch: 'main', executionId: 't1', pipeline: 'nightly' },
    { pipeline: 'ci/x' },
    'pipelines: "ci/x" matched none of [nightly, ci-*]',
  ],
  [
    'deploy',
    { services: ['payment-*'], environments: ['production'] },
    { service: 'payment-service', environment: 'production', executionId: 'd1' },
    { environment: 'staging' },
    'environments: "staging" matched none of [production]',
  ],
  [
    'deploy_failed',
    { services: ['*', '!legacy-*'] },
    { service: 'payment-service', environment: 'prod', executionId: 'd2' },
    { service: 'legacy-billing' },
    'services: "legacy-billing" is excluded by !legacy-*',
  ],
  [
    'canary',
    { environments: ['prod-*'] },
    { service: 's', environment: 'prod-eu', canaryPercent: 10 },
    { environment: 'prod' },
    'environments: "prod" matched none of [prod-*]',
  ],
  [
    'rollback',
    { services: 'checkout' },
    { service: 'checkout', environment: 'prod', executionId: 'r1' },
    { service: undefined },
    'services: the event carries no "service"',
  ],
  [
    'slo_breach',
    { services: ['api'], slos: ['latency-*'] },
    { service: 'api', sloName: 'latency-p99', currentValue: 0.95 },
    { sloName: 'availability' },
    'slos: "availability" matched none of [latency-*]',
  ],
  [
    'post_deploy',
    { services: ['api'], environments: ['production'] },
    { service: 'api', environment: 'production', executionId: 'p1' },
    { service: 'web' },
    'services: "web" matched none of [api]',
  ],
  [
    'cost_spike',
    { resources: ['production-cluster'], 'threshold-percent': 20 },
    { resource: 'production-cluster', increasePercent: 35, currentCost: 1200 },
    { increasePercent: 12 },
    'threshold-percent: increasePercent 12 is below 20',
  ],
  [
    'budget_exceeded',
    { budgets: ['team-*'] },
    { budgetName: 'team-a', budgetLimit: 1000, actualSpend: 1300 },
    { budgetName: 'org' },
    'budgets: "org" matched none of [team-*]',
  ],
  [
    'cost_anomaly',
    { resources: ['db-[0-9]+'] },
    { resource: 'db-12', anomalyType: 'spike', actualCost: 99 },
    { resource: 'db-x' },
    'resources: "db-x" matched none of [db-[0-9]+]',
  ],
  [
    'vulnerability_found',
    { repos: ['my-service'], severity: ['critical', 'high'], 'scan-types': ['sast'] },
    { repo: 'my-service', severity: 'HIGH', component: 'lodash', scanType: 'sast' },
    { severity: 'low' },
    'severity: "low" is not one of [critical, high]',
  ],
  [
    'scan_complete',
    { repos: ['my-service'], 'scan-types': ['sast', 'sca'] },
    { repo: 'my-service', scanType: 'sca', totalFindings: 3 },
    { scanType: 'dast' },
    'scan-types: "dast" matched none of [sast, sca]',
  ],
  [
    'severity_threshold',
    { 'scan-types': 'container' },
    { repo: 'r', threshold: 'high', count: 4, scanType: 'container' },
    { scanType: undefined },
    'scan-types: the event carries no "scanType"',
  ],
  [
    'comment_mention',
    { agents: ['codereview'], repos: ['my-*'] },
    { repo: 'my-service', pullReq: 42, commentBody: '@codereview please review', mentionedAgent: 'codereview' },
    { mentionedAgent: 'autofix' },
    'agents: "autofix" matched none of [codereview]',
  ],
  ['repo_created', {}, { repoName: 'my-new-repo', repoNamespace: 'my-org' }, { repoName: 'x' }, ''],
  ['flag_stale', {}, { featureFlag: 'new-checkout-flow', repo: 'r', treatment: 'on' }, { featureFlag: 'x' }, ''],
];

describe('platform events (flat payloads)', () => {
  it('covers all 18 platform events', () => {
    expect(new Set(PLATFORM.map((row) => row[0])).size).toBe(18);
  });

  it.each(PLATFORM)('%s', (event, filters, payload, change, expected) => {
    const on = Object.keys(filters).length ? { [event]: filters } : event;
    const label = Object.keys(filters).length ? `${event} {${Object.keys(filters).join(', ')}}` : event;
    expect(decide(on, event, payload)).toMatchObject({ matched: true, reason: `matched on: ${label}` });
    const changed = decide(on, event, { ...payload, ...change });
    if (expected) expect(changed).toMatchObject({ matched: false, reason: expected });
    else expect(changed.matched).toBe(true);
  });

  it('threshold-percent: at the threshold, numeric strings, non-numbers', () => {
    const on = { cost_spike: { 'threshold-percent': 20 } };
    expect(decide(on, 'cost_spike', { increasePercent: 20 }).matched).toBe(true);
    expect(decide(on, 'cost_spike', { increasePercent: '25.5' }).matched).toBe(true);
    expect(reason(on, 'cost_spike', { increasePercent: '19.9' })).toBe('threshold-percent: increasePercent 19.9 is below 20');
    expect(reason(on, 'cost_spike', { increasePercent: 'lots' })).toBe('threshold-percent: increasePercent "lots" is not a number');
    expect(reason(on, 'cost_spike', {})).toBe('threshold-percent: the event carries no "increasePercent"');
    expect(decide({ cost_spike: { 'threshold-percent': '20' } }, 'cost_spike', { increasePercent: 21 }).matched).toBe(true);
  });

  it('severity is compared case-insensitively, one value or a list', () => {
    expect(decide({ vulnerability_found: { severity: 'Critical' } }, 'vulnerability_found', { severity: 'critical' }).matched).toBe(true);
    expect(reason({ vulnerability_found: { severity: 'critical' } }, 'vulnerability_found', {})).toBe(
      'severity: the event carries no "severity"',
    );
  });

  it('a field holding a number is matched as its string', () => {
    expect(decide({ comment_mention: { repos: ['12*'] } }, 'comment_mention', { repo: 1234 }).matched).toBe(true);
    expect(reason({ comment_mention: { repos: ['12'] } }, 'comment_mention', { repo: 1234 })).toBe('repos: "1234" matched none of [12]');
  });

  it('a missing field does not pass, and says so', () => {
    expect(reason({ pipeline_failed: { repos: ['x'] } }, 'pipeline_failed', { branch: 'main' })).toBe('repos: the event carries no "repo"');
  });
});

describe('schedule', () => {
  const weekly = { schedule: { cron: '0 9 * * MON' } };

  it.each([
    [weekly, '2026-11-23T09:00:00Z', true],
    [weekly, '2026-11-23T09:00:59Z', true],
    [weekly, '2026-11-23T09:01:00Z', false],
    [{ schedule: { cron: '0 9 * * MON', timezone: 'America/New_York' } }, '2026-11-23T14:00:00Z', true],
    [{ schedule: { cron: '0 9 * * MON', timezone: 'America/New_York' } }, '2026-11-23T09:00:00Z', false],
    [{ schedule: { cron: '30 18 * * *', timezone: 'Asia/Kolkata' } }, '2026-11-21T13:00:00Z', true],
  ])('%j at %s → %s', (on, at, expected) => {
    expect(decide(on, 'schedule', {}, new Date(at)).matched).toBe(expected);
  });

  it('says which expression is not due, when, and in which zone', () => {
    expect(reason(weekly, 'schedule', {}, new Date('2026-11-21T10:00:00Z'))).toBe(
      'schedule: "0 9 * * MON" is not due at 2026-11-21T10:00Z (UTC)',
    );
    expect(reason({ schedule: { cron: '0 9 * * MON', timezone: 'Europe/Paris' } }, 'schedule', {}, new Date('2026-11-23T09:00:00Z'))).toBe(
      'schedule: "0 9 * * MON" is not due at 2026-11-23T09:00Z (Europe/Paris)',
    );
    expect(reason({ schedule: { cron: ['0 9 * * MON', '0 12 * * *'] } }, 'schedule', {}, new Date('2026-11-23T10:00:00Z'))).toBe(
      'schedule: none of "0 9 * * MON" (UTC), "0 12 * * *" (UTC) is due at 2026-11-23T10:00Z',
    );
    expect(reason({ schedule: { cron: '0 9 * *' } }, 'schedule', {})).toBe(
      'schedule: "0 9 * *" has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week)',
    );
    expect(reason({ schedule: { cron: '0 9 * * MON', timezone: 'Nowhere/City' } }, 'schedule', {})).toMatch(
      /^schedule: "Nowhere\/City" is not a known IANA time zone/,
    );
    expect(reason({ schedule: { name: 'x' } }, 'schedule', {})).toBe('schedule: no cron expression is given');
    expect(reason('schedule', 'schedule', {})).toBe('schedule: no cron expression is given');
  });

  it('a match gets scheduleName, cron, scheduledAt and caughtUp on a copy of the context', () => {
    const contexts = buildTriggerContexts('schedule', {});
    const matcher = createMatcher({ at: new Date('2026-11-23T12:00:00Z') });
    const named = matcher.match(triggerEntries({ schedule: { cron: ['0 9 * * MON', '0 12 * * *'], name: 'midday' } }), contexts);
    expect(named).toMatchObject({ matched: true, reason: 'matched on: schedule {cron, name}' });
    expect(named.context!.fields).toEqual({
      event: 'schedule',
      payload: {},
      cron: '0 12 * * *',
      scheduleName: 'midday',
      scheduledAt: '2026-11-23T12:00:00Z',
      caughtUp: false,
    });
    // The cron entry's catch-up says so in its payload.
    const late = matcher.match(triggerEntries({ schedule: { cron: '0 12 * * *' } }), buildTriggerContexts('schedule', { caughtUp: true }));
    expect(late.context!.fields.caughtUp).toBe(true);
    expect(contexts[0]!.fields).toEqual({ event: 'schedule', payload: {} });
    const unnamed = matcher.match(triggerEntries({ schedule: { cron: '0 12 * * *' } }), contexts);
    expect(unnamed.context!.fields).not.toHaveProperty('scheduleName');
    expect(unnamed.context!.fields.cron).toBe('0 12 * * *');
  });

  it('the seed ffcleanup example runs on Monday 09:00 UTC, on flag_stale, and by hand', () => {
    const on = ['flag_stale', { schedule: { cron: '0 9 * * MON' } }, 'workflow_dispatch'];
    expect(decide(on, 'schedule', {}).reason).toBe('matched on: schedule {cron}');
    expect(decide(on, 'flag_stale', { featureFlag: 'f', repo: 'r', treatment: 'off' }).reason).toBe('matched on: flag_stale');
    expect(decide(on, 'workflow_dispatch', {}).reason).toBe('matched on: workflow_dispatch');
  });
});

describe('workflow_dispatch', () => {
  it('always matches, inputs or not', () => {
    expect(decide('workflow_dispatch', 'workflow_dispatch', {}).matched).toBe(true);
    expect(decide({ workflow_dispatch: { inputs: { env: { type: 'string' } } } }, 'workflow_dispatch', { anything: 1 }).matched).toBe(true);
  });
});

describe('comment_mention derived from comments', () => {
  const on = [{ pull_request: { types: ['opened'] } }, { comment_mention: { agents: ['codereview'] } }];
  const comment = (body: string) => ({ repo: 'o/r', pullReq: 7, commentBody: body });

  it('an issue comment mentioning the agent matches the comment_mention entry', () => {
    const decision = decide(on, 'issue_comment', comment('@autofix and @codereview, please'));
    expect(decision.reason).toBe('matched on: comment_mention {agents}');
    expect(decision.context!.event).toBe('comment_mention');
    expect(decision.context!.fields).toMatchObject({ mentionedAgent: 'codereview', pullReq: 7, repo: 'o/r', event: 'comment_mention' });
  });

  it('a GitHub review comment delivery mentioning the agent matches too', () => {
    const base = examples('pull_request_review_comment')[0]!;
    const payload = { ...base, comment: { ...base.comment, body: 'thanks @codereview.' } };
    const decision = decide(on, 'pull_request_review_comment', payload);
    expect(decision.matched).toBe(true);
    expect(decision.context!.fields).toMatchObject({ mentionedAgent: 'codereview', pullReq: 2, repo: 'Codertocat/Hello-World' });
  });

  it('another agent mentioned: the reason names it', () => {
    expect(reason(on, 'issue_comment', comment('@autofix go'))).toBe('agents: "autofix" matched none of [codereview]');
  });

  it('no mention at all: nothing listens', () => {
    expect(reason(on, 'issue_comment', comment('looks good'))).toBe(
      'no entry listens to issue_comment (on: pull_request, comment_mention)',
    );
  });

  it('the primary event is tried before the derived ones', () => {
    const both = ['issue_comment', 'comment_mention'];
    expect(decide(both, 'issue_comment', comment('@codereview')).reason).toBe('matched on: issue_comment');
  });
});

describe('decisions', () => {
  it('no entry for the event lists what the definition listens to', () => {
    expect(reason(['pull_request', { comment_mention: { agents: ['codereview'] } }], 'push', { branch: 'main' })).toBe(
      'no entry listens to push (on: pull_request, comment_mention)',
    );
    expect(reason([], 'push', {})).toBe('no entry listens to push (the definition has no on: entries)');
  });

  it('the closest entry gives the reason: fewest failing filters', () => {
    const on = [{ pipeline_failed: { repos: ['a'], branches: ['main'] } }, { pipeline_failed: { repos: ['b'], branches: ['dev'] } }];
    const decision = decide(on, 'pipeline_failed', { repo: 'x', branch: 'dev' });
    expect(decision.matched).toBe(false);
    expect(decision.entry!.path).toEqual(['on', 1, 'pipeline_failed']);
    expect(decision.reason).toBe('repos: "x" matched none of [b]');
  });

  it('ties go to the earlier entry', () => {
    const on = [{ deploy: { services: ['a'] } }, { deploy: { services: ['b'] } }];
    expect(reason(on, 'deploy', { service: 'c' })).toBe('services: "c" matched none of [a]');
  });

  it('the first entry that passes wins', () => {
    const on = [{ deploy: { services: ['a'] } }, { deploy: { environments: ['prod'] } }, 'deploy'];
    const decision = decide(on, 'deploy', { service: 'x', environment: 'prod' });
    expect(decision.entry!.path).toEqual(['on', 1, 'deploy']);
  });

  it('an unknown filter never passes', () => {
    expect(reason({ push: { branch: 'main' } }, 'push', { branch: 'main' })).toBe('branch: not a filter of push');
  });

  it('an event unknown to the catalog matches by name; its filters cannot be evaluated', () => {
    expect(decide('custom_event', 'custom_event', {}).matched).toBe(true);
    expect(reason({ custom_event: { x: 1 } }, 'custom_event', {})).toBe(
      'x: custom_event is not a known event, so its filters cannot be evaluated',
    );
  });

  it('compiles each distinct pattern list once per matcher', () => {
    const spy = vi.mocked(patterns.compilePatternList);
    spy.mockClear();
    const matcher = createMatcher({ at: MONDAY_9 });
    const definitions = [
      triggerEntries({ push: { branches: ['main', 'release/**'] } }),
      triggerEntries({ push: { branches: ['main', 'release/**'], paths: ['src/**'] } }),
      triggerEntries({ pull_request: { branches: ['main', 'release/**'] } }),
    ];
    for (const payload of [
      { branch: 'main', changedFiles: ['src/a'] },
      { branch: 'dev', changedFiles: ['b'] },
    ]) {
      const contexts = buildTriggerContexts('push', payload);
      for (const entries of definitions) matcher.match(entries, contexts);
    }
    expect(spy).toHaveBeenCalledTimes(2);
    createMatcher({ at: MONDAY_9 }).match(definitions[0]!, buildTriggerContexts('push', { branch: 'main' }));
    expect(spy).toHaveBeenCalledTimes(3);
  });
});

// trig watch's event: path filters over the batch's changed files, as for a push, and
// `types` over the kinds of change the batch holds.
describe('file_change', () => {
  const batch = (changes: { created?: string[]; modified?: string[]; deleted?: string[] }): Payload => {
    const { created = [], modified = [], deleted = [] } = changes;
    const changeTypes = Object.entries({ created, modified, deleted })
      .filter(([, files]) => files.length)
      .map(([kind]) => kind);
    return { changedFiles: [...created, ...modified, ...deleted].sort(), created, modified, deleted, changeTypes, root: '/w' };
  };

  it.each([
    [{ paths: ['src/**'] }, batch({ modified: ['src/a.ts'] }), 'matched on: file_change {paths}'],
    [{ paths: ['src/**'] }, batch({ modified: ['README.md'] }), 'paths: the changed file "README.md" matched none of [src/**]'],
    [
      { paths: ['src/**', '!src/gen/**'] },
      batch({ created: ['src/gen/x.ts'] }),
      'paths: the changed file "src/gen/x.ts" matched none of [src/**, !src/gen/**]',
    ],
    [{ 'paths-ignore': ['docs/**'] }, batch({ modified: ['docs/a.md', 'src/a.ts'] }), 'matched on: file_change {paths-ignore}'],
    [
      { 'paths-ignore': ['docs/**'] },
      batch({ deleted: ['docs/a.md'] }),
      'paths-ignore: the changed file "docs/a.md" is ignored by [docs/**]',
    ],
    [{ types: ['deleted'] }, batch({ modified: ['a'], deleted: ['b'] }), 'matched on: file_change {types}'],
    [{ types: ['deleted'] }, batch({ created: ['a'], modified: ['b'] }), 'types: changeTypes [created, modified] has none of [deleted]'],
    [{ types: 'created' }, batch({ created: ['a'] }), 'matched on: file_change {types}'],
    [{ types: ['deleted'], paths: ['src/**'] }, batch({ deleted: ['src/old.ts'] }), 'matched on: file_change {types, paths}'],
    [{ types: ['modified'] }, { changedFiles: ['a'] }, 'types: the event carries no "changeTypes"'],
    [{ paths: ['**'] }, batch({}), 'paths: the event carries no changed files ("changedFiles"), so a path filter cannot pass'],
  ])('%j on %j → %s', (filters, payload, expected) => {
    expect(reason({ file_change: filters }, 'file_change', payload)).toBe(expected);
  });

  it('without filters, matches any batch', () => {
    expect(decide('file_change', 'file_change', batch({ created: ['x'] }))).toMatchObject({ matched: true });
  });
});

describe('workflow_run', () => {
  const finished = (workflow: string, conclusion: string, branch = 'main') => ({
    action: 'completed',
    conclusion,
    workflow,
    runId: 'abc',
    event: 'push',
    branch,
    repo: 'o/r',
  });
  const on = [{ workflow_run: { workflows: ['build*'], types: ['completed'], conclusions: ['failure'], 'branches-ignore': ['wip/**'] } }];

  it.each([
    [finished('build', 'failure'), 'matched on: workflow_run {workflows, types, conclusions, branches-ignore}'],
    [finished('build-linux', 'failure'), 'matched on: workflow_run {workflows, types, conclusions, branches-ignore}'],
    [finished('deploy', 'failure'), 'workflows: "deploy" matched none of [build*]'],
    [finished('build', 'success'), 'conclusions: "success" is not one of [failure]'],
    [finished('build', 'failure', 'wip/x'), 'branches-ignore: "wip/x" is ignored by wip/**'],
    [{ ...finished('build', 'failure'), action: 'requested' }, 'types: action "requested" is not one of [completed]'],
  ])('%j → %s', (payload, expected) => {
    expect(reason(on, 'workflow_run', payload)).toBe(expected);
  });

  it("reads GitHub's workflow_run deliveries", () => {
    const delivery = examples('workflow_run').find((p) => p.action === 'completed' && p.workflow_run.conclusion)!;
    const fields = buildTriggerContexts('workflow_run', delivery)[0]!.fields;
    expect(fields.workflow).toBe(delivery.workflow.name); // the run's own name is empty here
    expect(fields.conclusion).toBe(delivery.workflow_run.conclusion);
    expect(fields.branch).toBe(delivery.workflow_run.head_branch);
    expect(fields.runId).toBe(delivery.workflow_run.id);
    expect(decide({ workflow_run: { workflows: [delivery.workflow.name] } }, 'workflow_run', delivery).matched).toBe(true);
  });
});
