import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { ROOT, trig, type TrigResult } from '../helpers/trig.js';

// Runs that lead to runs, through the built bin/trig: each test has its own definitions,
// working directory (where the steps write what they saw) and store.

interface Place {
  dir: string;
  defs: string;
  state: string;
}

function place(definitions: Record<string, string>): Place {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-chain-'));
  const defs = path.join(dir, 'defs');
  mkdirSync(defs);
  for (const [name, text] of Object.entries(definitions)) writeFileSync(path.join(defs, `${name}.yaml`), text);
  writeFileSync(path.join(dir, 'push.json'), JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'o/r', name: 'r' } }));
  return { dir, defs, state: path.join(dir, 'state') };
}

function fire(p: Place, args: string[] = []): TrigResult {
  return trig(['fire', '--defs', 'defs', '--event', 'push', '--payload', 'push.json', ...args], {
    cwd: p.dir,
    env: { TRIG_STATE_DIR: p.state },
  });
}

/** The lines a definition's step appended to `<name>.txt` in the working directory (none when it never ran). */
function lines(p: Place, name: string): string[] {
  try {
    return readFileSync(path.join(p.dir, `${name}.txt`), 'utf8')
      .trim()
      .split('\n');
  } catch {
    return [];
  }
}

/** A definition that appends a line to `<name>.txt` and exits with `exit`. */
function definition(name: string, on: string, exit = 0, line = '$W $C'): string {
  return [
    'pipeline:',
    `  name: ${name}`,
    `  on: ${on}`,
    '  stages:',
    '    - name: s',
    '      steps:',
    '        - name: work',
    '          run:',
    '            shell: sh',
    `            script: echo "${line}" >> ${name}.txt; exit ${exit}`,
    '            env:',
    '              W: <+trigger.workflow>',
    '              C: <+trigger.conclusion>',
    '              X: <+trigger.executionId>',
    '              P: <+trigger.pipeline>',
    '              R: <+trigger.runId>',
    '',
  ].join('\n');
}

const after = (workflow: string, extra = '') => `[{workflow_run: {workflows: [${workflow}]${extra}}}]`;

interface FireJson {
  definitions: { name: string; matched: boolean; reason: string; run?: { id: string; status: string } }[];
  chain?: { event: string; runId: string; definition: string; eventId?: string }[];
  chained?: FireJson[];
  event: string;
  eventId?: string;
}

function storedEvents(p: Place) {
  const store = openSqliteStore(p.state);
  try {
    return store.listEvents({});
  } finally {
    store.close();
  }
}

describe('a finished run is an event', () => {
  it('a failed run starts the definition listening to workflow_run with conclusion failure, once, and not the one for success', () => {
    const p = place({
      build: definition('build', 'push', 3, 'built'),
      onfailure: definition('onfailure', after('build', ', conclusions: [failure]')),
      onsuccess: definition('onsuccess', after('build', ', conclusions: [success]')),
    });
    const result = fire(p, ['--json']);
    expect(result.code).toBe(1); // the build failed; the chained run's success does not change that
    const json = JSON.parse(result.stdout) as FireJson;
    const validate = new Ajv2020({ strict: false }).compile(
      JSON.parse(readFileSync(path.join(ROOT, 'schemas/fire-output.schema.json'), 'utf8')),
    );
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    const buildRun = json.definitions.find((d) => d.name === 'build')!.run!;
    expect(buildRun.status).toBe('failed');
    expect(lines(p, 'onfailure')).toEqual(['build failure']);
    expect(lines(p, 'onsuccess')).toEqual([]);
    const chained = json.chained!.find((c) => c.event === 'workflow_run')!;
    expect(chained.definitions.map((d) => [d.name, d.matched, d.run?.status])).toEqual([['onfailure', true, 'succeeded']]);
    expect(chained.chain).toEqual([
      { eventId: json.eventId, event: 'push', runId: buildRun.id, definition: 'build', file: path.join(p.defs, 'build.yaml') },
    ]);
  });

  it('text output names the run each chained match came after', async () => {
    const p = place({ build: definition('build', 'push', 3), onfailure: definition('onfailure', after('build')) });
    const result = fire(p);
    const runId = (await storedEvents(p)).find((e) => e.name === 'push')!.runs[0]!;
    expect(result.stdout).toContain(
      `defs/onfailure.yaml: onfailure: matched workflow_run {workflows} (chained after build run ${runId})\n`,
    );
  });

  it('pipeline_failed from a failed run starts an autofix-style definition with the run id as executionId', async () => {
    const p = place({
      build: definition('build', 'push', 1),
      autofix: definition('autofix', '[pipeline_failed: {pipelines: [build], repos: [o/r], branches: [main]}]', 0, '$X $P'),
    });
    const json = JSON.parse(fire(p, ['--json']).stdout) as FireJson;
    const buildRun = json.definitions.find((d) => d.name === 'build')!.run!;
    expect(lines(p, 'autofix')).toEqual([`${buildRun.id} build`]);
    // Stored as an event of its own, from source chain, with the chain in its details.
    const events = await storedEvents(p);
    const failed = events.find((e) => e.name === 'pipeline_failed')!;
    expect(failed).toMatchObject({ source: 'chain', deliveryKey: `pipeline_failed ${buildRun.id}` });
    expect(failed.payload).toMatchObject({ repo: 'o/r', branch: 'main', pipeline: 'build', executionId: buildRun.id });
    expect((failed.details.chain as { runId: string }[]).map((l) => l.runId)).toEqual([buildRun.id]);
  });

  it('a successful run fires no pipeline_failed, and a fire whose runs nobody listens to stores no chained event', async () => {
    const p = place({ build: definition('build', 'push'), autofix: definition('autofix', 'pipeline_failed') });
    expect(fire(p).code).toBe(0);
    expect(lines(p, 'autofix')).toEqual([]);
    expect((await storedEvents(p)).map((e) => e.name)).toEqual(['push']);
  });

  it('a chain stops after three chained levels by default, and at --chain-depth; the stop is recorded with its reason', async () => {
    const defs = {
      a: definition('a', 'push'),
      b: definition('b', after('a')),
      c: definition('c', after('b')),
      d: definition('d', after('c')),
      e: definition('e', after('d')),
    };
    const p = place(defs);
    fire(p);
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => lines(p, n).length)).toEqual([1, 1, 1, 1, 0]);
    const stopped = (await storedEvents(p)).find((e) => e.details.chainStopped !== undefined)!;
    expect(stopped.details.chainStopped).toBe('the chain is 4 runs long, deeper than the chain depth (3)');
    expect(stopped.decisions.find((d) => d.definition === 'e')).toMatchObject({
      matched: false,
      reason: 'chain stopped: the chain is 4 runs long, deeper than the chain depth (3)',
    });
    expect(stopped.runs).toEqual([]);

    const shallow = place(defs);
    fire(shallow, ['--chain-depth', '1']);
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => lines(shallow, n).length)).toEqual([1, 1, 0, 0, 0]);
    const off = place(defs);
    fire(off, ['--chain-depth', '0']);
    expect(['a', 'b'].map((n) => lines(off, n).length)).toEqual([1, 0]);
  });

  it('a definition that listens to every workflow_run never starts itself: its own end stops the chain', async () => {
    const p = place({ build: definition('build', 'push'), loop: definition('loop', 'workflow_run', 0, 'after $W') });
    const result = fire(p, ['--chain-depth', '10']);
    expect(lines(p, 'loop')).toEqual(['after build']);
    const loopRun = (await storedEvents(p)).find((e) => e.name === 'workflow_run' && e.runs.length)!.runs[0]!;
    expect(result.stdout).toContain(`defs/loop.yaml: loop: not matched: chain stopped: loop is already in this chain (run ${loopRun})\n`);
  });

  it('the same delivery fired again starts no chained run again; a dry run fires no chain', () => {
    const p = place({ build: definition('build', 'push', 3), onfailure: definition('onfailure', after('build')) });
    fire(p, ['--delivery-id', 'd-1']);
    const again = fire(p, ['--delivery-id', 'd-1']);
    expect(again.stdout).toMatch(/^duplicate delivery d-1/);
    expect(lines(p, 'onfailure')).toHaveLength(1);
    const dry = place({ build: definition('build', 'push', 3), onfailure: definition('onfailure', after('build')) });
    const result = fire(dry, ['--dry-run']);
    expect(result.stdout).not.toContain('onfailure: matched');
    expect(lines(dry, 'build')).toEqual([]);
  });

  it('--chain-depth outside 0 to 10 is a usage error', () => {
    const p = place({ build: definition('build', 'push') });
    for (const bad of ['11', '-1', 'three']) {
      const result = fire(p, ['--chain-depth', bad]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`trig: --chain-depth "${bad}": expected a whole number from 0 to 10\n`);
    }
    expect(lines(p, 'build')).toEqual([]);
  });
});

/** A step that appends to tries.txt and succeeds on try `succeedOn` (never when 0). */
function flaky(onFailure: string[], succeedOn: number): string {
  return [
    'pipeline:',
    '  name: flaky',
    '  on: push',
    '  stages:',
    '    - name: s',
    '      steps:',
    '        - name: try',
    '          run:',
    '            shell: sh',
    `            script: echo try >> tries.txt; n=$(wc -l < tries.txt); echo "try $n"; test ${succeedOn} -ne 0 && test $n -ge ${succeedOn}`,
    ...onFailure,
    '        - name: after',
    '          run: echo after >> after.txt',
    '',
  ].join('\n');
}

interface StepJson {
  name: string | null;
  status: string;
  exitCode: number | null;
  reason?: string;
  attempts?: { attempt: number; status: string; exitCode: number | null }[];
}

describe('retries', () => {
  const retry = (attempts: number, interval: string, failureAction = 'fail') => [
    '          on-failure:',
    '            errors: all',
    '            action:',
    '              retry:',
    `                attempts: ${attempts}`,
    `                interval: ${interval}`,
    `                failure-action: ${failureAction}`,
  ];

  function steps(p: Place, args: string[] = []): { result: TrigResult; steps: StepJson[]; runId: string } {
    const result = fire(p, ['--json', ...args]);
    const run = (JSON.parse(result.stdout) as { definitions: { run?: { id: string; steps: StepJson[] } }[] }).definitions[0]!.run!;
    return { result, steps: run.steps, runId: run.id };
  }

  it('retries a failed step with staggered intervals until it succeeds; each try is in the steps, the store and the log', async () => {
    const p = place({ flaky: flaky(retry(4, '[20ms, 40ms]'), 3) });
    const { result, steps: got, runId } = steps(p);
    expect(result.code).toBe(0);
    expect(lines(p, 'tries')).toEqual(['try', 'try', 'try']);
    expect(lines(p, 'after')).toEqual(['after']);
    expect(got[0]).toMatchObject({ name: 'try', status: 'succeeded', exitCode: 0 });
    expect(got[0]!.attempts!.map((a) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, 'failed', 1],
      [2, 'failed', 1],
      [3, 'succeeded', 0],
    ]);
    expect(result.stderr).toContain('[flaky/try] attempt 1 of 5 failed: exited with code 1; retrying in 20ms\n');
    expect(result.stderr).toContain('[flaky/try] attempt 2 of 5 failed: exited with code 1; retrying in 40ms\n');
    expect(result.stderr).toContain('[flaky/try] succeeded on attempt 3 of 5\n');
    const store = openSqliteStore(p.state);
    try {
      const run = await store.findRun(runId);
      expect('found' in run && run.found.steps[0]!.attempts!.length).toBe(3);
      const log = (await store.readLog(runId, { step: 'try' })).map((l) => l.text);
      expect(log.filter((t) => t.startsWith('try '))).toEqual(['try 1', 'try 2', 'try 3']);
    } finally {
      store.close();
    }
  });

  it('fails the run when every try fails, with the number of tries in the reason', () => {
    const p = place({ flaky: flaky(retry(2, '10ms'), 0) });
    const { result, steps: got } = steps(p);
    expect(result.code).toBe(1);
    expect(lines(p, 'tries')).toHaveLength(3);
    expect(lines(p, 'after')).toEqual([]);
    expect(got[0]).toMatchObject({ status: 'failed', reason: 'exited with code 1 (after 3 attempts)' });
  });

  it("failure-action ignore lets the run go on after the last try; the short form's defaults retry three times", () => {
    const p = place({ flaky: flaky(retry(1, '10ms', 'ignore'), 0) });
    const { result } = steps(p);
    expect(result.code).toBe(0);
    expect(lines(p, 'tries')).toHaveLength(2);
    expect(lines(p, 'after')).toEqual(['after']);
    // The short form: 3 retries, 10s apart, then fail (the plan shows them; waiting 10s has no place in a test).
    const short = place({ flaky: flaky(['          on-failure:', '            errors: all', '            action: retry'], 2) });
    const dry = fire(short, ['--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout).definitions[0].plan;
    expect(plan.stages[0].steps[0].onFailure).toEqual({
      errors: ['all'],
      action: 'retry',
      retry: { attempts: 3, intervalsMs: [10_000], failureAction: 'fail' },
    });
  });

  it("a stage's retry retries its failed step, unless the step's own on-failure covers the failure", () => {
    const stageRetry = (own: string[]) =>
      flaky(own, 0).replace(
        '    - name: s\n',
        '    - name: s\n      on-failure:\n        errors: all\n        action: {retry: {attempts: 2, interval: 10ms}}\n',
      );
    const p = place({ flaky: stageRetry([]) });
    expect(fire(p).code).toBe(1);
    expect(lines(p, 'tries')).toHaveLength(3);
    const own = place({ flaky: stageRetry(['          on-failure:', '            errors: all', '            action: ignore']) });
    expect(fire(own).code).toBe(0);
    expect(lines(own, 'tries')).toHaveLength(1);
    expect(lines(own, 'after')).toEqual(['after']);
  });
});
