import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, trig, type TrigResult } from '../helpers/trig.js';
import { fileLines } from '../helpers/files.js';

// Manual intervention through the built bin/trig: a step whose on-failure says
// manual-intervention (or whose retries end in it) stops the run at a gate; trig intervene
// in another process decides: retry (the step runs again), ignore (the run goes on), abort
// (the run ends failed). The steps append to files in the work directory, so what ran, and
// how often, is read from the disk; the failing step succeeds once the test writes ok.flag.

interface Place {
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** A folder with defs/fix.yaml: `check` (fails until ok.flag exists) with the on-failure lines, then `deploy`. */
function place(onFailure: string[], stepLines: string[] = []): Place {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-intervention-'));
  mkdirSync(path.join(dir, 'defs'));
  const pipeline = [
    'pipeline:',
    '  name: fix',
    '  on: deploy',
    '  stages:',
    '    - name: release',
    '      steps:',
    '        - name: check',
    '          run: {shell: sh, script: "echo try >> tries.txt; test -f ok.flag"}',
    ...stepLines,
    '          on-failure:',
    ...onFailure.map((line) => `            ${line}`),
    '        - name: deploy',
    '          run: {shell: sh, script: echo deploy >> deployed.txt}',
    '',
  ];
  writeFileSync(path.join(dir, 'defs', 'fix.yaml'), pipeline.join('\n'));
  return { dir, env: { TRIG_STATE_DIR: path.join(dir, 'state') } };
}

const run = (p: Place, args: string[]): TrigResult => trig(args, { cwd: p.dir, env: p.env });
const fire = (p: Place) => run(p, ['fire', '--defs', 'defs', '--event', 'deploy']);
const lines = (p: Place, file: string) => fileLines(p.dir, file);
const succeedFromNowOn = (p: Place) => writeFileSync(path.join(p.dir, 'ok.flag'), '');

interface GateJson {
  id: string;
  kind: string;
  runId: string;
  step: string;
  message: string | null;
  timeoutAction: string;
}

function gates(p: Place): GateJson[] {
  const result = run(p, ['approvals', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const json = JSON.parse(result.stdout);
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'approvals-output.schema.json'), 'utf8')));
  expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  return json.gates;
}

interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  steps: { stage: string; name: string | null; status: string; reason?: string; attempts?: { attempt: number; status: string }[] }[];
}

function onlyRun(p: Place): RunJson {
  const result = run(p, ['runs', '--defs', 'defs', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const runs = (JSON.parse(result.stdout) as { runs: RunJson[] }).runs;
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

/** Fires; the run must stop at one intervention gate. */
function fireUntilGate(p: Place): { fired: TrigResult; gate: GateJson } {
  const fired = fire(p);
  expect(fired.code, fired.stderr + fired.stdout).toBe(0);
  const all = gates(p);
  expect(all).toHaveLength(1);
  return { fired, gate: all[0]! };
}

describe('on-failure action manual-intervention', () => {
  it('stops the run at the failed step; trig intervene retry runs the step again and then the rest, once', () => {
    const p = place(['errors: all', 'action: manual-intervention']);
    const { fired, gate } = fireUntilGate(p);
    expect(lines(p, 'tries.txt')).toEqual(['try']);
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(gate).toMatchObject({ kind: 'intervention', step: 'check', message: 'exited with code 1', timeoutAction: 'abort' });
    const out = fired.stdout.split('\n');
    expect(out).toContain('[fix/check] failed: exited with code 1');
    expect(
      out.some((l) => l.startsWith(`[fix/check] awaiting manual intervention: trig intervene ${gate.id} retry|ignore|abort; until `)),
    ).toBe(true);
    expect(out.some((l) => l.endsWith(', then abort'))).toBe(true);
    expect(onlyRun(p)).toMatchObject({ status: 'awaiting_approval' });

    // An approval's verbs do not decide it, nor does a decision that is not one.
    const approved = run(p, ['approve', gate.id]);
    expect(approved.code).toBe(2);
    expect(approved.stderr).toBe(
      `trig: gate ${gate.id} waits for manual intervention, not approval: trig intervene ${gate.id} retry|ignore|abort\n`,
    );
    const typo = run(p, ['intervene', gate.id, 'retyr']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('trig: "retyr" is not a decision: retry, ignore or abort; did you mean "retry"?\n');
    // `trig resume` does not carry it on either: only a decision does.
    const resumed = run(p, ['resume', gate.runId]);
    expect([resumed.code, resumed.stderr]).toEqual([
      2,
      `trig: run ${gate.runId} waits at a gate: only a decision carries it on (trig approve, or trig intervene; trig approvals lists its gate)\n`,
    ]);
    expect(lines(p, 'tries.txt')).toEqual(['try']);

    succeedFromNowOn(p);
    const retried = run(p, ['intervene', gate.id.slice(0, 6), 'retry', '--as', 'ann', '--comment', 'flag fixed']);
    expect(retried.code, retried.stderr).toBe(0);
    const said = retried.stdout.split('\n');
    expect(said[0]).toBe(`retried step check at gate ${gate.id} as ann: the run goes on`);
    expect(said).toContain('[fix/check] retried by ann (manual intervention: flag fixed)');
    expect(lines(p, 'tries.txt')).toEqual(['try', 'try']);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    const done = onlyRun(p);
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]).toMatchObject({
      name: 'check',
      status: 'succeeded',
      attempts: [
        { attempt: 1, status: 'failed' },
        { attempt: 2, status: 'succeeded' },
      ],
    });
    // Decided once: the gate is gone, and a second decision is refused.
    expect(gates(p)).toEqual([]);
    const again = run(p, ['intervene', gate.id, 'retry']);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`trig: gate ${gate.id} is decided already: retry (by ann)\n`);
    expect(lines(p, 'tries.txt')).toEqual(['try', 'try']);
  });

  it('ignore: the run goes on as if the step had succeeded, its failure kept with who let it go', () => {
    const p = place(['errors: all', 'action: manual-intervention']);
    const { gate } = fireUntilGate(p);
    const ignored = run(p, ['intervene', gate.id, 'ignore', '--as', 'bob']);
    expect(ignored.code, ignored.stderr).toBe(0);
    expect(lines(p, 'tries.txt')).toEqual(['try']);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    const done = onlyRun(p);
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]).toMatchObject({
      name: 'check',
      status: 'failed',
      reason: 'exited with code 1; ignored by bob (manual intervention)',
    });
  });

  it('abort: the run ends failed, saying who aborted it, nothing after the step runs, and its end fires pipeline_failed', () => {
    const p = place(['errors: all', 'action: manual-intervention']);
    // The spec's autofix shape: a definition that reacts to a failed pipeline.
    writeFileSync(
      path.join(p.dir, 'defs', 'autofix.yaml'),
      [
        'pipeline:',
        '  name: autofix',
        '  on:',
        '    pipeline_failed: {pipelines: [fix]}',
        '  stages:',
        '    - name: s',
        '      steps:',
        '        - run: {shell: sh, script: echo <+trigger.executionId> >> fixed.txt}',
        '',
      ].join('\n'),
    );
    const { gate } = fireUntilGate(p);
    const aborted = run(p, ['intervene', gate.id, 'abort', '--as', 'cy', '--comment', 'not today']);
    // The run it carried on failed: exit 1, as trig approve's would.
    expect(aborted.code, aborted.stderr).toBe(1);
    const said = aborted.stdout.split('\n');
    expect(said[0]).toBe(`aborted step check at gate ${gate.id} as cy: run ${gate.runId} (fix) ends failed`);
    expect(said).toContain('[fix/check] failed: exited with code 1; aborted by cy (manual intervention: not today)');
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(lines(p, 'fixed.txt')).toEqual([gate.runId]);
    const result = run(p, ['runs', '--defs', 'defs', '--definition', 'fix', '--json']);
    const done = (JSON.parse(result.stdout) as { runs: RunJson[] }).runs[0]!;
    expect(done.status).toBe('failed');
    expect(done.reason).toBe('step check: exited with code 1; aborted by cy (manual intervention: not today)');
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['check', 'failed'],
      ['deploy', 'skipped'],
    ]);
  });

  it("abort wins over a stage's on-failure that would let the failure go", () => {
    const p = place(['errors: all', 'action: manual-intervention']);
    const yaml = path.join(p.dir, 'defs', 'fix.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace('    - name: release\n', '    - name: release\n      on-failure: {errors: all, action: ignore}\n'),
    );
    const { gate } = fireUntilGate(p);
    expect(run(p, ['intervene', gate.id, 'abort']).code).toBe(1);
    expect(onlyRun(p).status).toBe('failed');
    expect(lines(p, 'deployed.txt')).toEqual([]);
  });
});

describe("a retry's failure-action manual-intervention", () => {
  it('asks a person once the retries are spent; their retry runs a new round of retries, and asks again at a new gate', () => {
    const p = place([
      'errors: all',
      'action:',
      '  retry:',
      '    attempts: 1',
      '    interval: 10ms',
      '    failure-action: manual-intervention',
    ]);
    const { gate } = fireUntilGate(p);
    expect(lines(p, 'tries.txt')).toEqual(['try', 'try']);
    expect(gate.message).toBe('exited with code 1 (after 2 attempts)');

    const retried = run(p, ['intervene', gate.id, 'retry', '--as', 'ann']);
    expect(retried.code, retried.stderr).toBe(0);
    // The step's own retry again: two more tries, then a person is asked again, at another gate.
    expect(lines(p, 'tries.txt')).toEqual(['try', 'try', 'try', 'try']);
    const [second] = gates(p);
    expect(second).toMatchObject({ kind: 'intervention', step: 'check' });
    expect(second!.id).not.toBe(gate.id);

    const ignored = run(p, ['intervene', second!.id, 'ignore', '--as', 'ann']);
    expect(ignored.code, ignored.stderr).toBe(0);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    const done = onlyRun(p);
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]!.attempts!.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'failed'],
    ]);
  });
});

describe("a manual intervention's timeout", () => {
  it('timeout-action fail (the spec sample): trig approvals ends the run failed, saying nobody decided', async () => {
    const p = place(['errors: [all]', 'action:', '  manual-intervention:', '    timeout: 1s', '    timeout-action: fail']);
    const { gate } = fireUntilGate(p);
    await delay(1200);
    const listed = run(p, ['approvals']);
    // The run it carried on to its end failed.
    expect(listed.code, listed.stderr).toBe(1);
    const said = listed.stdout.split('\n');
    expect(said).toContain(`gate ${gate.id} (run ${gate.runId}, fix) timed out after 1s: aborted (timeout-action)`);
    expect(said).toContain('[fix/check] failed: exited with code 1; aborted: no decision within 1s (timeout-action: abort)');
    expect(said.at(-2)).toBe('no gates wait for a decision');
    const done = onlyRun(p);
    expect(done.status).toBe('failed');
    expect(done.reason).toBe('step check: exited with code 1; aborted: no decision within 1s (timeout-action: abort)');
    expect(lines(p, 'deployed.txt')).toEqual([]);
  });

  it('timeout-action retry with its own settings: the step is retried as they say, and their failure-action decides', async () => {
    const p = place([
      'errors: [all]',
      'action:',
      '  manual-intervention:',
      '    timeout: 1s',
      '    timeout-action:',
      '      retry: {attempts: 2, interval: 10ms, failure-action: success}',
    ]);
    fireUntilGate(p);
    await delay(1200);
    const listed = run(p, ['approvals']);
    expect(listed.code, listed.stderr).toBe(0);
    // One try before the gate, then the timeout's round: a try and its 2 retries, all failing; success lets it go.
    expect(lines(p, 'tries.txt')).toEqual(['try', 'try', 'try', 'try']);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    const done = onlyRun(p);
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]!.reason).toBe('exited with code 1 after 3 attempts; ignored (retry failure-action: success)');
  });
});

describe('where a person cannot be asked', () => {
  it('inside a parallel block the run stops there (blocked), saying why', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-intervention-'));
    mkdirSync(path.join(dir, 'defs'));
    writeFileSync(
      path.join(dir, 'defs', 'fix.yaml'),
      [
        'pipeline:',
        '  name: fix',
        '  on: deploy',
        '  stages:',
        '    - name: s',
        '      steps:',
        '        - name: both',
        '          parallel:',
        '            steps:',
        '              - name: check',
        '                run: {shell: sh, script: "false"}',
        '                on-failure: {errors: all, action: manual-intervention}',
        '',
      ].join('\n'),
    );
    const p = { dir, env: { TRIG_STATE_DIR: path.join(dir, 'state') } };
    const fired = fire(p);
    expect(fired.code).toBe(1);
    expect(fired.stdout).toContain(
      '[fix/both/check] blocked: exited with code 1; a manual intervention inside a parallel block cannot wait for a decision: the run stops here',
    );
    expect(gates(p)).toEqual([]);
  });
});
