import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EVENTS } from '../../src/catalog/events.js';
import { ROOT, trig } from '../helpers/trig.js';

interface FireJson {
  event: string;
  trigger: Record<string, unknown>;
  definitions: {
    file: string;
    name: string;
    matched: boolean;
    event?: string;
    entry?: string;
    reason: string;
    stopped?: string;
    plan?: { stages: { name: string; steps: { name: string; env: Record<string, string>; command?: string[] }[] }[]; clone?: unknown };
  }[];
}

function fireJson(args: string[], input?: string): FireJson {
  const result = trig(['fire', '--dry-run', '--json', ...args], { input });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as FireJson;
}

const platformEvents = EVENTS.filter((e) => e.group !== 'github' && e.group !== 'local').map((e) => e.name);

describe('trig fire --dry-run on flat payloads of the 18 platform events', () => {
  it('covers all 18', () => expect(platformEvents).toHaveLength(18));

  it.each(platformEvents)('%s: the matching definition runs with the payload values, the filtered one does not', (event) => {
    const payloadFile = `fixtures/payloads/${event}.json`;
    const payload = JSON.parse(readFileSync(path.join(ROOT, payloadFile), 'utf8')) as Record<string, unknown>;
    const out = fireJson(['--defs', `fixtures/fire/${event}.yaml`, '--event', event, '--payload', payloadFile]);
    expect(out.event).toBe(event);
    const matched = out.definitions.filter((d) => d.matched).map((d) => d.name);
    expect(matched).toEqual([`${event}-match`]);
    const step = out.definitions[0]!.plan!.stages[0]!.steps[0]!;
    const expected: Record<string, string> = { EVENT: event };
    for (const [field, value] of Object.entries(payload)) expected[field.toUpperCase()] = String(value);
    expect(step.env).toEqual(expected);
    const filtered = out.definitions.find((d) => d.name === `${event}-filtered`);
    if (filtered) expect(filtered.matched).toBe(false);
  });

  it('explains exactly why filtered definitions did not match', () => {
    const reasons = Object.fromEntries(
      ['pipeline_failed', 'cost_spike', 'vulnerability_found', 'deploy'].map((event) => {
        const out = fireJson(['--defs', `fixtures/fire/${event}.yaml`, '--event', event, '--payload', `fixtures/payloads/${event}.json`]);
        return [event, out.definitions.find((d) => !d.matched)!.reason];
      }),
    );
    expect(reasons).toEqual({
      pipeline_failed: 'branches: "main" matched none of [release/**]',
      cost_spike: 'threshold-percent: increasePercent 35 is below 50',
      vulnerability_found: 'severity: "critical" is not one of [low]',
      deploy: 'environments: "production" matched none of [staging]',
    });
  });

  it('a filter whose field the payload lacks does not pass, and says so', () => {
    const out = fireJson(
      ['--defs', 'fixtures/fire/pipeline_failed.yaml', '--event', 'pipeline_failed', '--payload', '-'],
      '{"repo":"my-service"}',
    );
    expect(out.definitions.map((d) => [d.matched, d.reason])).toEqual([
      [false, 'branches: the event carries no "branch"'],
      [false, 'branches: the event carries no "branch"'],
    ]);
  });
});

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];
const delivery = (event: string, pick: (p: Record<string, any>) => boolean) => examples.find((e) => e.name === event)!.examples.find(pick)!;

describe('trig fire --dry-run on real GitHub deliveries (@octokit/webhooks-examples)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-github-'));
  const write = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };

  it('a branch push matches the branch filter, not the tag filter, with normalised fields', () => {
    const push = delivery('push', (p) => p.ref === 'refs/heads/master');
    const out = fireJson(['--defs', 'fixtures/github', '--event', 'push', '--payload', write('push.json', push)]);
    expect(out.definitions.filter((d) => d.matched).map((d) => d.name)).toEqual(['push-branch']);
    expect(out.trigger).toMatchObject({
      event: 'push',
      repo: 'Codertocat/Hello-World',
      branch: 'master',
      commitSha: push.after,
      before: push.before,
    });
    const step = out.definitions.find((d) => d.name === 'push-branch')!.plan!.stages[0]!.steps[0]!;
    expect(step.env).toEqual({
      REPO: 'Codertocat/Hello-World',
      BEFORE: push.before,
      PUSHER: push.pusher.name,
      TRIG_TRIGGER_BRANCH: 'master',
      TRIG_TRIGGER_COMMIT_SHA: push.after,
    });
    expect(step.command!.slice(-1)[0]).toBe('echo "${TRIG_TRIGGER_BRANCH} ${TRIG_TRIGGER_COMMIT_SHA}"');
    expect(out.definitions.find((d) => d.name === 'push-tag')!.reason).toBe(
      'tags: the event is for branch "master", and this entry filters only tags',
    );
  });

  it('a tag push matches only the tag filter', () => {
    const push = delivery('push', (p) => p.ref === 'refs/tags/simple-tag');
    const out = fireJson(['--defs', 'fixtures/github', '--event', 'push', '--payload', write('tag.json', push)]);
    expect(out.definitions.filter((d) => d.matched).map((d) => d.name)).toEqual(['push-tag']);
    expect(out.definitions.find((d) => d.name === 'push-tag')!.plan!.stages[0]!.steps[0]!.env).toEqual({ TAG: 'simple-tag' });
  });

  it('pull_request: default types, base-branch filter, resolved clone', () => {
    const opened = delivery('pull_request', (p) => p.action === 'opened');
    const out = fireJson(['--defs', 'fixtures/github', '--event', 'pull_request', '--payload', write('pr.json', opened)]);
    expect(out.definitions.filter((d) => d.matched).map((d) => d.name)).toEqual(['pull-request']);
    const pr = out.definitions.find((d) => d.name === 'pull-request')!;
    expect(pr.plan!.clone).toEqual({ depth: 50, ref: { type: 'pull-request', number: opened.number }, repo: 'Codertocat/Hello-World' });
    expect(pr.plan!.stages[0]!.steps[0]!.env).toMatchObject({
      TITLE: opened.pull_request.title,
      SOURCE: opened.pull_request.head.ref,
      TARGET: 'master',
      SHA: opened.pull_request.head.sha,
    });

    const closed = delivery('pull_request', (p) => p.action === 'closed');
    const after = fireJson(['--defs', 'fixtures/github', '--event', 'pull_request', '--payload', write('closed.json', closed)]);
    expect(after.definitions.filter((d) => d.matched).map((d) => d.name)).toEqual(['pull-request-closed']);
    expect(after.definitions.find((d) => d.name === 'pull-request')!.reason).toBe(
      'types: action "closed" is not one of [opened, synchronize, reopened] (the default for pull_request)',
    );
  });

  it('issue_comment mentioning @codereview also starts the comment_mention agent, read from standard input', () => {
    const comment = structuredClone(delivery('issue_comment', (p) => p.action === 'created'));
    comment.comment.body = '@codereview please look at this';
    const out = fireJson(['--defs', 'fixtures/github', '--event', 'issue_comment', '--payload', '-'], JSON.stringify(comment));
    const matched = out.definitions.filter((d) => d.matched);
    expect(matched.map((d) => [d.name, d.event])).toEqual([
      ['codereview', 'comment_mention'],
      ['issue-comment', 'issue_comment'],
    ]);
    expect(matched[0]!.plan!.stages[0]!.steps[0]!.env).toEqual({
      PLUGIN_REPO: 'Codertocat/Hello-World',
      PLUGIN_COMMENT: '@codereview please look at this',
      PLUGIN_AGENT: 'codereview',
    });
  });
});

describe('trig fire usage errors: one line, exit 2, nothing fires', () => {
  it.each([
    [
      ['--event', 'pipline_failed'],
      'trig: unknown event "pipline_failed"; did you mean "pipeline_failed"? (see the event list in the README)\n',
    ],
    [['--event', 'push', '--payload', 'missing.json'], 'trig: missing.json: cannot read the payload (no such file)\n'],
    [['--event', 'push', '--input', 'no-equals'], 'trig: --input "no-equals": expected key=value, with a key of letters, digits, _ . -\n'],
    [['--event', 'schedule', '--at', 'tomorrow'], 'trig: --at "tomorrow": expected an ISO-8601 time such as 2026-11-23T09:00:00Z\n'],
  ])('%j', (args, message) => {
    const result = trig(['fire', '--defs', 'fixtures/seed', ...args]);
    expect([result.code, result.stdout, result.stderr]).toEqual([2, '', message]);
  });

  it.each([
    ['{"a": 1,}', 'trig: standard input:1:9: invalid JSON: Expected double-quoted property name'],
    ['[1, 2]', 'trig: standard input: the payload must be a JSON object, not an array'],
    ['"text"', 'trig: standard input: the payload must be a JSON object, not a string'],
  ])('payload %s', (input, message) => {
    const result = trig(['fire', '--defs', 'fixtures/seed', '--event', 'push', '--payload', '-'], { input });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('trig fire --event schedule --at', () => {
  const fire = (at: string) => fireJson(['--defs', 'fixtures/fire/schedules.yaml', '--event', 'schedule', '--at', at]).definitions[0]!;

  it('matches the item due at that minute, in its time zone, and names it', () => {
    const monday = fire('2026-11-23T09:00:30Z');
    expect([monday.matched, monday.plan!.stages[0]!.steps[0]!.env]).toEqual([
      true,
      { TRIG_TRIGGER_SCHEDULE_NAME: 'monday-morning', TRIG_TRIGGER_CRON: '0 9 * * MON' },
    ]);
    // 17:00 in New York on 27 November 2026 is 22:00 UTC; an unnamed item takes the definition's name.
    const friday = fire('2026-11-27T22:00:00Z');
    expect(friday.plan!.stages[0]!.steps[0]!.env).toEqual({
      TRIG_TRIGGER_SCHEDULE_NAME: 'weekly-report',
      TRIG_TRIGGER_CRON: '0 17 * * FRI',
    });
  });

  it('is not due a minute later, or at 17:00 UTC', () => {
    expect(fire('2026-11-23T09:01:00Z').matched).toBe(false);
    expect(fire('2026-11-27T17:00:00Z').reason).toBe(
      'schedule: none of "0 9 * * MON" (UTC), "0 17 * * FRI" (America/New_York) is due at 2026-11-27T17:00Z',
    );
  });
});

describe('trig fire --json output', () => {
  it('follows schemas/fire-output.schema.json, for matched, filtered, derived and invalid definitions', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas/fire-output.schema.json'), 'utf8')));
    const runs = [
      trig([
        'fire',
        '--dry-run',
        '--json',
        '--defs',
        'fixtures/fire',
        '--event',
        'cost_spike',
        '--payload',
        'fixtures/payloads/cost_spike.json',
      ]),
      trig([
        'fire',
        '--dry-run',
        '--json',
        '--defs',
        'fixtures/github',
        'fixtures/invalid/unknown-event.yaml',
        '--event',
        'comment_mention',
        '--payload',
        'fixtures/payloads/comment_mention.json',
      ]),
    ];
    for (const run of runs) {
      expect(run.code).toBe(0);
      const output = JSON.parse(run.stdout) as unknown;
      expect(validate(output), JSON.stringify(validate.errors)).toBe(true);
    }
    const invalid = (JSON.parse(runs[1]!.stdout) as FireJson).definitions.find((d) => d.file === 'fixtures/invalid/unknown-event.yaml');
    expect(invalid).toMatchObject({ valid: false, matched: false });
  });
});

describe('trig fire --dry-run text output', () => {
  it('shows each matched plan, and with --explain why the others did not match', () => {
    const result = trig(
      [
        'fire',
        '--dry-run',
        '--explain',
        '--defs',
        'fixtures/fire/pipeline_failed.yaml',
        '--event',
        'pipeline_failed',
        '--payload',
        'fixtures/payloads/pipeline_failed.json',
      ],
      { env: { PATH: '/nonexistent' } },
    );
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'fixtures/fire/pipeline_failed.yaml: pipeline_failed-match: matched pipeline_failed {repos, branches, pipelines}',
        '  stage respond',
        '    step show',
        `      $ sh -e -c 'echo "$EVENT"'`,
        '      EVENT="pipeline_failed"',
        '      REPO="my-service"',
        '      BRANCH="main"',
        '      EXECUTIONID="abc123"',
        '      PIPELINE="build"',
        'fixtures/fire/pipeline_failed.yaml: pipeline_failed-filtered: not matched: branches: "main" matched none of [release/**]',
        '',
      ].join('\n'),
    });
  });

  it('resolves --input values, and <+trigger.x> falls back to the input x on a manual run', () => {
    const result = trig([
      'fire',
      '--dry-run',
      '--defs',
      'fixtures/seed/ffcleanup.yaml',
      '--event',
      'workflow_dispatch',
      '--input',
      'branch=release/2.0',
      '--input',
      'repo=acme/shop',
      '--input',
      'featureFlag=new-checkout',
      '--workdir',
      '/srv',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'fixtures/seed/ffcleanup.yaml: ffcleanup: matched workflow_dispatch',
      '  warning: secret input "anthropicKey" has no value: set TRIG_SECRET_FFCLEANUP_ANTHROPIC_APIKEY',
      '  warning: secret input "harnessApiKey" has no value: set TRIG_SECRET_FFCLEANUP_HARNESS_APIKEY',
      '  clone {"depth":1,"ref":{"name":"release/2.0","type":"branch"},"repo":"acme/shop"}',
    ]);
    expect(lines).toContain('      FEATURE_FLAG="new-checkout"');
    expect(lines).toContain(
      '      $ docker run --rm -v /srv:/harness -w /harness -e ANTHROPIC_API_KEY -e FEATURE_FLAG -e TREATMENT -e TRIG_EVENT -e TRIG_DEFINITION -e TRIG_RUN_ID anewdocker25/mydockerhub:coding-agent',
    );
  });

  it('warns of an --input no matched definition declares, with did-you-mean; one read as a trigger field is no typo', () => {
    const result = trig([
      'fire',
      '--dry-run',
      '--defs',
      'fixtures/seed/ffcleanup.yaml',
      '--event',
      'workflow_dispatch',
      '--input',
      'brnach=release/2.0',
      '--input',
      'repo=acme/shop',
      '--input',
      'colour=blue',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      [
        'trig: warning: --input "brnach": no matched definition declares it; did you mean "branch"? (declared inputs: anthropicKey, harnessApiKey, branch)',
        'trig: warning: --input "colour": no matched definition declares it (declared inputs: anthropicKey, harnessApiKey, branch)',
        '',
      ].join('\n'),
    );
    expect(result.stdout).toContain('  clone {"depth":1,"ref":{"name":"main","type":"branch"},"repo":"acme/shop"}\n');
  });

  it('says so when the matched definitions declare no inputs at all, and says nothing when nothing matched', () => {
    const args = [
      'fire',
      '--dry-run',
      '--defs',
      'fixtures/fire/pipeline_failed.yaml',
      '--payload',
      'fixtures/payloads/pipeline_failed.json',
      '--input',
      'colour=blue',
    ];
    expect(trig([...args, '--event', 'pipeline_failed']).stderr).toBe(
      'trig: warning: --input "colour": no matched definition declares it (the matched definitions declare no inputs)\n',
    );
    expect(trig([...args, '--event', 'deploy']).stderr).toBe('');
  });

  it('shows secrets as *** in the plan', () => {
    const result = trig(['fire', '--dry-run', '--defs', 'fixtures/seed/ffcleanup.yaml', '--event', 'workflow_dispatch'], {
      env: { TRIG_SECRET_FFCLEANUP_ANTHROPIC_APIKEY: 'sk-ant-0123456789' },
    });
    expect(result.stdout).toContain('      ANTHROPIC_API_KEY="***"');
    expect(result.stdout).not.toContain('sk-ant-0123456789');
  });
});

describe('trig fire --dry-run masks secrets whatever their characters', () => {
  // fixtures/runs/masking.yaml places the secret in env, a script variable, `with:` (flat,
  // in a list, nested into PLUGIN_NESTED as JSON) and clone.
  const dryRun = (secret: string, json: boolean) =>
    trig(
      [
        'fire',
        '--dry-run',
        ...(json ? ['--json'] : []),
        '--defs',
        'fixtures/runs/masking.yaml',
        '--event',
        'workflow_dispatch',
        '--workdir',
        '/srv',
      ],
      {
        env: { TRIG_SECRET_TRIG_TEST_MASK: secret },
      },
    );
  const secrets = ['pa"ss\\word', 'true', '1', 'e', '"', '\\', 'first line\nsecond "line" \\ end'];
  // Secrets that are more than JSON's own syntax, so that they must appear nowhere at all.
  const distinctive = ['pa"ss\\word', 'first line\nsecond "line" \\ end'];
  const forms = (secret: string) => [secret, JSON.stringify(secret).slice(1, -1), ...secret.split('\n')];

  function strings(value: unknown): string[] {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.flatMap(strings);
    if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
    return [];
  }

  it.each(secrets)('--json with the secret %j: valid JSON, every place the secret was is ***', (secret) => {
    const result = dryRun(secret, true);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const json = JSON.parse(result.stdout) as FireJson & {
      definitions: {
        plan: { inputs: Record<string, unknown>; stages: { steps: { env: Record<string, string>; with?: Record<string, unknown> }[] }[] };
      }[];
    };
    const plan = json.definitions[0]!.plan;
    expect(plan.inputs).toEqual({ token: '***' });
    expect(plan.clone).toEqual({ repo: '***' });
    const [script, plugin] = plan.stages[0]!.steps;
    expect(script!.env).toEqual({ TOK: '***', TRIG_INPUTS_TOKEN: '***' });
    expect(plugin!.env.PLUGIN_FLAT).toBe('***');
    expect(plugin!.with).toMatchObject({ flat: '***', list: ['***', 'plain'], nested: { token: '***', deeper: { token: '***' } } });
    for (const value of strings(json)) for (const form of forms(secret)) expect(value).not.toContain(form);
    if (distinctive.includes(secret)) {
      for (const form of forms(secret)) expect(result.stdout).not.toContain(form);
      expect(plugin!.env.PLUGIN_LIST).toBe('***,plain');
      expect(JSON.parse(plugin!.env.PLUGIN_NESTED!)).toEqual({ token: '***', deeper: { token: '***' } });
    }
  });

  it.each(secrets)('text with the secret %j: masked before it is quoted', (secret) => {
    const result = dryRun(secret, false);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines).toContain('  clone {"repo":"***"}');
    expect(lines).toContain('      TOK="***"');
    expect(lines).toContain('      TRIG_INPUTS_TOKEN="***"');
    expect(lines).toContain('      PLUGIN_FLAT="***"');
    if (distinctive.includes(secret)) {
      expect(lines).toContain('      PLUGIN_NESTED="{\\"token\\":\\"***\\",\\"deeper\\":{\\"token\\":\\"***\\"}}"');
      for (const form of [...forms(secret), JSON.stringify(JSON.stringify(secret)).slice(1, -1)]) expect(result.stdout).not.toContain(form);
    }
  });
});

describe('trig fire text output of hostile payload values', () => {
  it('shows control characters and line breaks of a payload value as escapes, never raw', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-hostile-text-'));
    const payload = path.join(dir, 'payload.json');
    // ESC ] 0 ; … BEL sets a terminal's title; the line break would print a line like trig's own.
    writeFileSync(
      payload,
      JSON.stringify({ repo: 'a\u001b]0;pwned\u0007b\nfixtures/fire/x.yaml: x: matched', branch: 'main', pipeline: 'p' }),
    );
    const result = trig([
      'fire',
      '--event',
      'pipeline_failed',
      '--payload',
      payload,
      '--defs',
      'fixtures/fire/pipeline_failed.yaml',
      '--dry-run',
      '--explain',
    ]);
    expect(result).toEqual({
      code: 0,
      stdout:
        'fixtures/fire/pipeline_failed.yaml: pipeline_failed-match: not matched: repos: "a\\u001b]0;pwned\\u0007b\\nfixtures/fire/x.yaml: x: matched" matched none of [my-service]\n' +
        'fixtures/fire/pipeline_failed.yaml: pipeline_failed-filtered: not matched: branches: "main" matched none of [release/**]\n',
      stderr: '',
    });
  });
});
