import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { fireExitCode } from '../../src/fire/exit.js';
import { fire, type FireDeps, type FireOutcome, type FireRequest } from '../../src/fire/fire.js';
import { openStore as openStoreOf } from '../../src/fire/record.js';
import { presentFire } from '../../src/fire/present.js';
import { fireJson } from '../../src/report/fire-format.js';
import { UsageError } from '../../src/shared/errors.js';
import type { Output } from '../../src/shared/io.js';
import { PLAIN_STYLE } from '../../src/shared/style.js';
import { loadDefinitions } from '../../src/validate/definitions.js';
import { ROOT } from '../helpers/trig.js';

// The fire core driven in this process, with a fixed clock and writers that capture what
// is written: no build, and no trig process (the steps of a real run are child processes).

const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-fire-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function definitions(name: string, yaml: string): string {
  const folder = path.join(dir, name);
  rmSync(folder, { recursive: true, force: true });
  const file = path.join(folder, 'defs.yaml');
  mkdirSync(folder, { recursive: true });
  writeFileSync(file, yaml);
  return folder;
}

const SCHEDULES = `version: 1
pipeline:
  name: weekly-report
  on:
    schedule:
      - cron: "0 9 * * MON"
        name: monday-morning
  stages:
    - name: report
      steps:
        - name: show
          run:
            shell: sh
            script: echo "<+trigger.scheduleName>"
---
version: 1
pipeline:
  name: on-push
  on: push
  stages:
    - name: build
      steps:
        - run: "true"
`;

// Monday 23 November 2026, 09:00 UTC: the schedule above is due.
const MONDAY_NINE = new Date('2026-11-23T09:00:00Z');

function captured() {
  const lines = { runs: '', stdout: '', stderr: '' };
  const io: Output = { stdout: { write: (t) => void (lines.stdout += t) }, stderr: { write: (t) => void (lines.stderr += t) } };
  return { lines, io, runOutput: { write: (t: string) => void (lines.runs += t) } };
}

function deps(overrides: Partial<FireDeps> = {}, clock = MONDAY_NINE): FireDeps & { lines: ReturnType<typeof captured>['lines'] } {
  const { lines, runOutput } = captured();
  const notices: string[] = [];
  return {
    lines,
    now: () => clock,
    env: { PATH: process.env.PATH },
    cwd: () => dir,
    loadDefinitions: async (paths) =>
      (await loadDefinitions(paths, { cache: false, env: {}, notice: (line) => notices.push(line) })).checked,
    runOutput,
    ...overrides,
  };
}

const byName = (outcome: FireOutcome, name: string) => outcome.definitions.find((d) => d.decision.name === name)!;

describe('the fire core', () => {
  it('matches a schedule due at the clock’s time and returns its plan with dryRun, launching nothing', async () => {
    const defs = definitions('due', SCHEDULES);
    const planned: FireOutcome[] = [];
    const d = deps({ onPlanned: (o) => void planned.push(o) });
    const outcome = await fire({ event: 'schedule', payload: {}, definitions: [defs], options: { dryRun: true } }, d);

    expect(outcome.at).toEqual(MONDAY_NINE);
    const report = byName(outcome, 'weekly-report');
    expect(report.decision).toMatchObject({ valid: true, matched: true, event: 'schedule', reason: 'matched on: schedule' });
    expect(report.decision.matched && report.decision.trigger.scheduleName).toBe('monday-morning');
    expect(report.planned && 'plan' in report.planned).toBe(true);
    const step = (report.planned as { plan: { stages: { steps: { name: string; command?: string[]; env: Record<string, string> }[] }[] } })
      .plan.stages[0]!.steps[0]!;
    expect(step.name).toBe('show');
    expect(step.command).toEqual(['sh', '-e', '-c', 'echo "${TRIG_TRIGGER_SCHEDULE_NAME}"']);
    expect(step.env).toEqual({ TRIG_TRIGGER_SCHEDULE_NAME: 'monday-morning' });
    expect(report.run).toBeUndefined();

    const push = byName(outcome, 'on-push');
    expect(push.decision).toEqual({
      file: path.join(defs, 'defs.yaml'),
      name: 'on-push',
      valid: true,
      matched: false,
      reason: 'no entry listens to schedule (on: push)',
    });
    expect(push.planned).toBeUndefined();

    expect(planned).toEqual([outcome]);
    expect(outcome.summary).toBeUndefined();
    expect(d.lines.runs).toBe('');
    expect(fireExitCode(outcome)).toBe(0);
  });

  it('gives the reason a schedule that is not due did not match, and plans nothing', async () => {
    const defs = definitions('not-due', SCHEDULES);
    const outcome = await fire(
      { event: 'schedule', payload: {}, definitions: [defs], options: { dryRun: true } },
      deps({}, new Date('2026-11-23T09:01:00Z')),
    );
    expect(outcome.definitions.map((d) => [d.decision.name, d.decision.matched, d.decision.reason])).toEqual([
      ['weekly-report', false, 'schedule: "0 9 * * MON" is not due at 2026-11-23T09:01Z (UTC)'],
      ['on-push', false, 'no entry listens to schedule (on: push)'],
    ]);
    expect(outcome.definitions.every((d) => d.planned === undefined)).toBe(true);
  });

  it('takes the time of the request over the clock', async () => {
    const defs = definitions('at', SCHEDULES);
    const outcome = await fire(
      { event: 'schedule', payload: {}, definitions: [defs], at: MONDAY_NINE, options: { dryRun: true } },
      deps({}, new Date('2026-11-24T10:30:00Z')),
    );
    expect(byName(outcome, 'weekly-report').decision.matched).toBe(true);
  });

  it('runs the steps of a matched definition, writing their lines to the writer it is given', async () => {
    const defs = definitions(
      'run',
      `version: 1
pipeline:
  name: greet
  on: repo_created
  stages:
    - name: hello
      steps:
        - name: say
          run: echo "hello from <+trigger.event> in <+trigger.repoName>"
        - name: ok
          run: "true"
`,
    );
    const workdir = mkdtempSync(path.join(dir, 'work-'));
    const d = deps();
    const outcome = await fire({ event: 'repo_created', payload: { repoName: 'payments' }, definitions: [defs], options: { workdir } }, d);
    expect(d.lines.runs).toMatch(/^\[greet\/say\] hello from repo_created in payments\n\[greet\] succeeded in \d+(ms|\.\ds)\n$/);
    const { run } = byName(outcome, 'greet');
    expect(run).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      steps: [
        { stage: 'hello', name: 'say', status: 'succeeded' },
        { stage: 'hello', name: 'ok', status: 'succeeded' },
      ],
    });
    expect(outcome.summary).toMatchObject({ matched: 1, succeeded: 1, failed: 0, notRun: 0 });
    expect(outcome.runsFailed).toBe(false);
    expect(fireExitCode(outcome)).toBe(0);
  });

  it('reports a failed run in the outcome and its exit code, masking secrets in the lines and naming them in the outcome', async () => {
    const defs = definitions(
      'fail',
      `version: 1
pipeline:
  name: leaky
  on: scan_complete
  inputs:
    token:
      type: secret
  stages:
    - name: s
      steps:
        - name: leak
          run: |
            echo "token <+inputs.token>"
            exit 3
`,
    );
    const workdir = mkdtempSync(path.join(dir, 'work-'));
    const d = deps({ env: { PATH: process.env.PATH, TRIG_SECRET_TOKEN: 's3cr3t-value' } });
    const outcome = await fire({ event: 'scan_complete', payload: {}, definitions: [defs], options: { workdir, quiet: true } }, d);
    expect(outcome.secrets).toEqual(['s3cr3t-value']);
    expect(d.lines.runs).toContain('[leaky/leak] token ***\n');
    expect(d.lines.runs).not.toContain('s3cr3t-value');
    expect(byName(outcome, 'leaky').run).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(outcome.runsFailed).toBe(true);
    expect(fireExitCode(outcome)).toBe(1);
  });

  it('tells the caller the plans before any run starts', async () => {
    const defs = definitions(
      'order',
      `version: 1\npipeline:\n  name: o\n  on: deploy\n  stages:\n    - name: s\n      steps:\n        - run: echo ran\n`,
    );
    const events: string[] = [];
    const d = deps({ onPlanned: () => void events.push('planned'), runOutput: { write: (t) => void events.push(t) } });
    await fire({ event: 'deploy', payload: {}, definitions: [defs], options: { workdir: mkdtempSync(path.join(dir, 'work-')) } }, d);
    expect(events[0]).toBe('planned');
    expect(events[1]).toBe('[o/step-1] ran\n');
  });

  it('opens the store only for a fire that matched or carries a delivery key, and records the run', async () => {
    const defs = definitions(
      'store',
      `version: 1\npipeline:\n  name: kept\n  on: deploy\n  stages:\n    - name: s\n      steps:\n        - run: echo kept-line\n`,
    );
    const stateDir = mkdtempSync(path.join(dir, 'state-'));
    let opened = 0;
    const openStore = async () => {
      opened++;
      return openStoreOf({ TRIG_STATE_DIR: stateDir });
    };
    const workdir = mkdtempSync(path.join(dir, 'work-'));
    const request = (event: string, extra: Partial<FireRequest> = {}): FireRequest => ({
      event,
      payload: {},
      definitions: [defs],
      options: { workdir, ...extra.options },
      ...extra,
    });
    await fire(request('deploy', { options: { dryRun: true } }), deps({ openStore }));
    await fire(request('rollback'), deps({ openStore }));
    expect(opened).toBe(0);
    await fire(request('rollback', { deliveryKey: 'd-0' }), deps({ openStore }));
    expect(opened).toBe(1);
    const outcome = await fire(request('deploy'), deps({ openStore }));
    expect(opened).toBe(2);
    const run = byName(outcome, 'kept').run!;
    expect(run.status).toBe('succeeded');
    const store = await openStoreOf({ TRIG_STATE_DIR: stateDir });
    try {
      const found = await store.findRun(run.id);
      expect('found' in found && found.found).toMatchObject({ status: 'succeeded', definition: 'kept', eventId: outcome.eventId });
      expect((await store.readLog(run.id)).map((l) => [l.step, l.text])).toEqual([
        ['step-1', 'kept-line'],
        [null, expect.stringMatching(/^succeeded in \d/)],
      ]);
      expect((await store.listEvents({})).map((e) => [e.name, e.deliveryKey])).toEqual([
        ['deploy', null],
        ['rollback', 'd-0'],
      ]);
    } finally {
      store.close();
    }
  });

  it('decides about definitions already checked, without loading any', async () => {
    const defs = definitions('checked', SCHEDULES);
    const { checked } = await loadDefinitions([defs], { cache: false, env: {}, notice: () => {} });
    const outcome = await fire(
      { event: 'push', payload: { ref: 'refs/heads/main', after: '1'.repeat(40) }, definitions: checked, options: { dryRun: true } },
      deps({ loadDefinitions: () => Promise.reject(new Error('not to be called')) }),
    );
    expect(outcome.definitions.map((d) => [d.decision.name, d.decision.matched])).toEqual([
      ['weekly-report', false],
      ['on-push', true],
    ]);
  });

  it('refuses an unknown event, and a missing working directory for a run, as usage errors before loading anything', async () => {
    const d = deps({ loadDefinitions: () => Promise.reject(new Error('not to be called')) });
    await expect(fire({ event: 'pussh', payload: {}, definitions: [] }, d)).rejects.toThrow(
      new UsageError('unknown event "pussh"; did you mean "push"? (see the event list in the README)'),
    );
    const missing = path.join(dir, 'no-such-dir');
    await expect(fire({ event: 'push', payload: {}, definitions: [], options: { workdir: missing } }, d)).rejects.toThrow(
      new UsageError(`--workdir "${missing}": no such directory`),
    );
    await expect(fire({ event: 'push', payload: {}, definitions: [], options: { concurrency: 0, dryRun: true } }, d)).rejects.toThrow(
      UsageError,
    );
  });

  it('makes an invalid definition never fire, with its diagnostics, and warnings count with strict', async () => {
    const defs = definitions('invalid', `version: 1\npipeline:\n  name: broken\n  on: push\n  stages: nope\n`);
    const outcome = await fire({ event: 'push', payload: {}, definitions: [defs], options: { dryRun: true } }, deps());
    const { decision } = byName(outcome, 'broken');
    expect(decision).toMatchObject({ valid: false, matched: false, reason: 'not valid (1 problem); run trig validate' });
    expect(!decision.valid && decision.diagnostics.map((x) => [x.line, x.severity])).toEqual([[5, 'error']]);
  });
});

describe('presenting a fire', () => {
  it('writes the text report and the JSON document (schemas/fire-output.schema.json) through the writers it is given', async () => {
    const defs = definitions('present', SCHEDULES);
    const text = captured();
    const presenter = presentFire(text.io, { json: false, explain: true, quiet: false, style: PLAIN_STYLE });
    const outcome = await fire(
      { event: 'schedule', payload: {}, definitions: [defs], options: { dryRun: true } },
      deps({ onPlanned: presenter.planned }),
    );
    presenter.finished(outcome);
    const file = path.join(defs, 'defs.yaml');
    expect(text.lines.stdout).toBe(
      `${file}: weekly-report: matched schedule\n` +
        '  stage report\n' +
        '    step show\n' +
        `      $ sh -e -c 'echo "\${TRIG_TRIGGER_SCHEDULE_NAME}"'\n` +
        '      TRIG_TRIGGER_SCHEDULE_NAME="monday-morning"\n' +
        `${file}: on-push: not matched: no entry listens to schedule (on: push)\n`,
    );
    expect(text.lines.stderr).toBe('');

    const json = captured();
    const jsonPresenter = presentFire(json.io, { json: true, explain: false, quiet: false, style: PLAIN_STYLE });
    jsonPresenter.planned(outcome);
    jsonPresenter.finished(outcome);
    const document = JSON.parse(json.lines.stdout);
    expect(document).toEqual(JSON.parse(JSON.stringify(fireJson(outcome))));
    const validate = new Ajv2020({ strict: false }).compile(
      JSON.parse(readFileSync(path.join(ROOT, 'schemas/fire-output.schema.json'), 'utf8')),
    );
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(document).toMatchObject({
      event: 'schedule',
      at: '2026-11-23T09:00:00.000Z',
      definitions: [
        { name: 'weekly-report', matched: true },
        { name: 'on-push', matched: false },
      ],
    });
  });
});
