// trig replay and trig validate --against-history on real GitHub deliveries
// (@octokit/webhooks-examples): fired with real definitions into a fresh store, a branch
// filter edited, the history compared, recorded events fired again.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/fire/record.js';
import { ROOT, trig } from '../helpers/trig.js';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];
const delivery = (event: string, pick: (p: Record<string, any>) => boolean) => examples.find((e) => e.name === event)!.examples.find(pick)!;

const schema = (name: string) => {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas', name), 'utf8')));
};

/** A definition whose one step appends a line to ran.log in the working directory. */
const definition = (name: string, on: string) =>
  `version: 1\npipeline:\n  name: ${name}\n  on:\n${on}\n  stages:\n    - name: s\n      steps:\n        - run: echo "${name} <+trigger.event>" >> ran.log\n`;

const PUSH_ON = (branches: string) => `    - push:\n        branches: [${branches}]`;
const PR_ON = (branches: string) => `    - pull_request:\n        branches: [${branches}]`;
const COMMENT_ON = `    - issue_comment:\n        types: [created]`;

describe('trig validate --against-history and trig replay on real GitHub deliveries', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'trig-replay-'));
  const repo = path.join(root, 'repo');
  const harness = path.join(repo, '.harness');
  const env = { TRIG_STATE_DIR: path.join(root, 'state') };
  const log = path.join(repo, 'ran.log');
  const ran = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const ids: Record<string, string> = {};
  const at: Record<string, string> = {};

  const push = delivery('push', (p) => p.ref === 'refs/heads/master');
  const opened = delivery('pull_request', (p) => p.action === 'opened');
  const comment = delivery('issue_comment', (p) => p.action === 'created');

  const fire = (event: string, payload: unknown, deliveryId: string) =>
    trig(['fire', '--json', '--event', event, '--payload', '-', '--delivery-id', deliveryId], {
      cwd: repo,
      env,
      input: JSON.stringify(payload),
    });

  beforeAll(() => {
    mkdirSync(harness, { recursive: true });
    // As first written: deploy on release branches only, review on pull requests to master.
    writeFileSync(path.join(harness, 'deploy.yaml'), definition('deploy', PUSH_ON('"release/**"')));
    writeFileSync(path.join(harness, 'review.yaml'), definition('review', PR_ON('master')));
    writeFileSync(path.join(harness, 'answer.yaml'), definition('answer', COMMENT_ON));
    for (const [name, event, payload] of [
      ['push', 'push', push],
      ['pr', 'pull_request', opened],
      ['comment', 'issue_comment', comment],
    ] as const) {
      const r = fire(event, payload, `delivery-${name}`);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { eventId: string; at: string };
      ids[name] = out.eventId;
      at[name] = out.at;
    }
    // The push matched nothing but carried a delivery id: recorded, nothing ran.
    expect(ran()).toBe('review pull_request\nanswer issue_comment\n');
    // Then a branch filter is edited each way.
    writeFileSync(path.join(harness, 'deploy.yaml'), definition('deploy', PUSH_ON('master')));
    writeFileSync(path.join(harness, 'review.yaml'), definition('review', PR_ON('develop')));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('validate --against-history shows exactly the runs that appear and disappear, and nothing runs or is recorded', () => {
    const r = trig(['validate', '--against-history'], { cwd: repo, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `${ids.pr} pull_request from cli at ${at.pr} (delivery delivery-pr)`,
        '  - review (ran then; now: branches: "master" matched none of [develop])',
        `${ids.push} push from cli at ${at.push} (delivery delivery-push)`,
        '  + deploy (would now run: matched on: push {branches})',
        '3 events for .harness: 2 would change, 1 unchanged',
        '',
      ].join('\n'),
    );
    expect(ran()).toBe('review pull_request\nanswer issue_comment\n');
    // N: the newest events only; --strict: exit 1 when anything would change.
    const newest = trig(['validate', '--against-history', '1', '--strict'], { cwd: repo, env });
    expect([newest.code, newest.stdout]).toEqual([0, '1 event for .harness: 0 would change, 1 unchanged\n']);
    expect(trig(['validate', '--against-history', '2', '--strict'], { cwd: repo, env }).code).toBe(1);
  });

  it('--format json follows schemas/validate-history.schema.json', () => {
    const r = trig(['validate', '.harness', '--against-history', '--format', 'json'], { cwd: repo, env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const validate = schema('validate-history.schema.json');
    expect(validate(out), JSON.stringify(validate.errors)).toBe(true);
    expect(out.summary).toEqual({ events: 3, changed: 2, unchanged: 1, notCompared: 0 });
    expect(out.events.map((e: { id: string; changes: unknown[] }) => [e.id, e.changes])).toEqual([
      [ids.comment, []],
      [
        ids.pr,
        [
          {
            change: 'disappears',
            file: path.join(harness, 'review.yaml'),
            definition: 'review',
            then: 'matched on: pull_request {branches}',
            now: 'branches: "master" matched none of [develop]',
          },
        ],
      ],
      [
        ids.push,
        [
          {
            change: 'appears',
            file: path.join(harness, 'deploy.yaml'),
            definition: 'deploy',
            then: 'branches: "master" matched none of [release/**]',
            now: 'matched on: push {branches}',
          },
        ],
      ],
    ]);
  });

  it("compares the events of these definitions' places, or every event with --all", () => {
    const other = path.join(root, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'elsewhere.yaml'), definition('elsewhere', COMMENT_ON));
    const r = trig(['fire', '--defs', other, '--event', 'issue_comment', '--payload', '-'], {
      cwd: repo,
      env,
      input: JSON.stringify(comment),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(trig(['validate', '--against-history'], { cwd: repo, env }).stdout).toMatch(
      /\n3 events for \.harness: 2 would change, 1 unchanged\n$/,
    );
    const all = trig(['validate', '--against-history', '--all', '--strict'], { cwd: repo, env });
    expect(all.code).toBe(1);
    // Against .harness, the event fired at the other folder would not start `elsewhere` any more.
    expect(all.stdout).toMatch(
      /^[0-9a-f]{12} issue_comment from cli at \S+\n {2}- elsewhere \(ran then; now: not among the definitions\)\n/,
    );
    expect(all.stdout).toMatch(/\n4 events in the store: 3 would change, 1 unchanged\n$/);
    rmSync(other, { recursive: true });
  });

  it('refuses a bad N, github annotations, and --all alone, as usage errors', () => {
    for (const [args, message] of [
      [['--against-history', '0'], 'trig: --against-history "0": expected a number of events (at least 1)\n'],
      [
        ['--against-history', '.harness'],
        'trig: --against-history ".harness": expected a number of events; paths go before the option (trig validate defs/ --against-history)\n',
      ],
      [['--against-history', '--format', 'github'], 'trig: --against-history prints text or json, not github annotations\n'],
      [['--all'], 'trig: --all goes with --against-history\n'],
    ] as const) {
      const r = trig(['validate', ...args], { cwd: repo, env });
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', message]);
    }
  });

  it('replay fires a recorded event against the definitions as they are now, recorded with replayOf', async () => {
    const before = ran();
    const r = trig(['replay', ids.push!.slice(0, 6)], { cwd: repo, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^replaying event ${ids.push} \\(push from cli at ${at.push}\\) as event ([0-9a-f]{12})$`));
    expect(lines.slice(1)).toEqual([
      '.harness/deploy.yaml: deploy: matched push {branches}',
      expect.stringMatching(/^\[deploy\] succeeded in \d/),
      expect.stringMatching(/^1 matched, 1 succeeded, 0 failed in /),
      '',
    ]);
    // The step really ran: the edited deploy now starts on the recorded push to master.
    expect(ran()).toBe(`${before}deploy push\n`);
    const replayId = /as event ([0-9a-f]{12})$/.exec(lines[0]!)![1]!;
    const store = await openStore(env);
    try {
      const found = await store.findEvent(replayId);
      expect('found' in found && found.found).toMatchObject({
        name: 'push',
        source: 'replay',
        replayOf: ids.push,
        deliveryKey: null,
        places: [harness],
        payload: push,
        details: { decidedAt: at.push },
      });
      // Received now, decided at the replayed event's time.
      expect('found' in found && found.found.at.getTime()).toBeGreaterThan(Date.parse(at.push!));
      const runs = await store.listRuns({ event: 'push' });
      expect(runs.map((run) => [run.eventId, run.definition, run.status])).toEqual([[replayId, 'deploy', 'succeeded']]);
    } finally {
      store.close();
    }
  });

  it('replays a --delivery-id event that trig fire refuses as a duplicate, as often as asked', () => {
    const before = ran();
    const again = fire('issue_comment', comment, 'delivery-comment');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ duplicate: true, eventId: ids.comment, delivery: 'delivery-comment' });
    expect(ran()).toBe(before);
    const replayed = [1, 2].map(() => {
      const r = trig(['replay', ids.comment!, '--json'], { cwd: repo, env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    });
    const validate = schema('fire-output.schema.json');
    for (const out of replayed) {
      expect(validate(out), JSON.stringify(validate.errors)).toBe(true);
      expect(out).toMatchObject({ event: 'issue_comment', replayOf: ids.comment, summary: { matched: 1, succeeded: 1 } });
      expect(out.at).toBe(at.comment);
    }
    expect(replayed[0].eventId).not.toBe(replayed[1].eventId);
    // A replay of a replay: decided at the first event's time too, and pointing at the replay given.
    const again2 = trig(['replay', replayed[0].eventId, '--json'], { cwd: repo, env });
    expect(again2.code, again2.stderr).toBe(0);
    expect(JSON.parse(again2.stdout)).toMatchObject({ at: at.comment, replayOf: replayed[0].eventId, summary: { succeeded: 1 } });
    expect(ran()).toBe(`${before}answer issue_comment\nanswer issue_comment\nanswer issue_comment\n`);
  });

  it('--dry-run shows the plan and neither runs nor records anything', async () => {
    const before = ran();
    const r = trig(['replay', ids.pr!, '--dry-run', '--explain'], { cwd: repo, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `replaying event ${ids.pr} (pull_request from cli at ${at.pr}), dry run: nothing is run or recorded\n` +
        '.harness/answer.yaml: answer: not matched: no entry listens to pull_request (on: issue_comment)\n' +
        '.harness/deploy.yaml: deploy: not matched: no entry listens to pull_request (on: push)\n' +
        '.harness/review.yaml: review: not matched: branches: "master" matched none of [develop]\n',
    );
    expect(ran()).toBe(before);
    const store = await openStore(env);
    try {
      expect((await store.listEvents({})).filter((e) => e.replayOf === ids.pr)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("uses the event's recorded places from anywhere, and --defs instead when they are gone", () => {
    const elsewhere = mkdtempSync(path.join(root, 'cwd-'));
    const before = ran();
    const r = trig(['replay', ids.comment!, '--workdir', repo, '--quiet'], { cwd: elsewhere, env });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(ran()).toBe(`${before}answer issue_comment\n`);

    const moved = path.join(repo, 'pipelines');
    renameSync(harness, moved);
    try {
      const gone = trig(['replay', ids.comment!], { cwd: repo, env });
      expect([gone.code, gone.stdout]).toEqual([2, '']);
      expect(gone.stderr).toBe(
        `trig: warning: ${harness}, where event ${ids.comment} found its definitions, no longer exists\n` +
          `trig: none of the definitions event ${ids.comment} was fired against exist any more (${harness}); name them with --defs\n`,
      );
      const given = trig(['replay', ids.comment!, '--defs', 'pipelines', '--quiet'], { cwd: repo, env });
      expect([given.code, given.stderr]).toEqual([0, '']);
      expect(ran()).toBe(`${before}answer issue_comment\nanswer issue_comment\n`);
    } finally {
      renameSync(moved, harness);
    }
  });

  it('a missing, malformed or ambiguous id is a one-line usage error', async () => {
    const missing = trig(['replay', '0000000000000'], { cwd: repo, env });
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([2, '', 'trig: no event 0000000000000\n']);
    const malformed = trig(['replay', 'x\u001b[2J'], { cwd: repo, env });
    expect([malformed.code, malformed.stdout, malformed.stderr]).toEqual([2, '', 'trig: "x\\u001b[2J" is not an id (hex digits)\n']);
    // 17 events or more: two of them begin with the same hex digit.
    const store = await openStore(env);
    let events;
    try {
      for (let i = 0; i < 17; i++) await store.admitEvent({ name: 'push', source: 'cli', at: new Date(), places: [harness], payload: {} });
      events = await store.listEvents({});
    } finally {
      store.close();
    }
    const digit = '0123456789abcdef'.split('').find((d) => events.filter((e) => e.id.startsWith(d)).length > 1)!;
    const ambiguous = trig(['replay', digit], { cwd: repo, env });
    expect([ambiguous.code, ambiguous.stdout]).toEqual([2, '']);
    expect(ambiguous.stderr).toMatch(new RegExp(`^trig: ${digit} is the start of several events \\([0-9a-f, …]+\\); give more of it\\n$`));
  });
});
