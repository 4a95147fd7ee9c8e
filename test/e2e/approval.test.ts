import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CACHE_DIR, ROOT, TRIG, trig, type TrigResult } from '../helpers/trig.js';
import { fileLines } from '../helpers/files.js';

// Approval gates through the built bin/trig: a run that reaches an approval step or stage
// (or a definition's own approval:) is recorded as waiting at its gate and its trig exits;
// trig approve in another process carries it on, after the gate, once. The steps append to
// files in the work directory, so what ran (and how often) is read from the disk.

interface Place {
  dir: string;
  state: string;
  env: NodeJS.ProcessEnv;
}

const SECRET = 's3cr3t-approval-token';

/** A folder with defs/<name>.yaml holding `pipeline` (YAML lines), and a store of its own. */
function place(pipeline: string[]): Place {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-approval-'));
  mkdirSync(path.join(dir, 'defs'));
  writeFileSync(path.join(dir, 'defs', 'gated.yaml'), ['pipeline:', '  name: gated', '  on: deploy', ...pipeline, ''].join('\n'));
  const state = path.join(dir, 'state');
  return { dir, state, env: { TRIG_STATE_DIR: state, TRIG_SECRET_TOKEN: SECRET } };
}

const touch = (name: string, file: string) => [`        - name: ${name}`, `          run: {shell: sh, script: echo ${name} >> ${file}}`];

/** build, then an approval step `wait` (its settings under with:), then deploy; a second stage after. */
function stepGate(settings: string[] = [], uses = 'harness'): Place {
  return place([
    '  inputs:',
    '    token: {type: secret, default: token}',
    '  stages:',
    '    - name: release',
    '      steps:',
    ...touch('build', 'built.txt'),
    '        - name: wait',
    '          approval:',
    `            uses: ${uses}`,
    '            with:',
    '              message: "deploy <+trigger.environment> with <+inputs.token>?"',
    ...settings.map((line) => `              ${line}`),
    // Even a step that says to ignore its failures does not let the run past its gate.
    '          on-failure: {errors: all, action: ignore}',
    ...touch('deploy', 'deployed.txt'),
    '    - name: after',
    '      steps:',
    ...touch('later', 'after.txt'),
  ]);
}

function run(p: Place, args: string[], env: NodeJS.ProcessEnv = {}): TrigResult {
  return trig(args, { cwd: p.dir, env: { ...p.env, ...env } });
}

function fireGated(p: Place, args: string[] = []): TrigResult {
  return trig(['fire', '--defs', 'defs', '--event', 'deploy', '--payload', '-', ...args], {
    cwd: p.dir,
    env: p.env,
    input: JSON.stringify({ environment: 'prod' }),
  });
}

const lines = (p: Place, file: string): string[] => fileLines(p.dir, file);

interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  steps: { stage: string; name: string | null; status: string; reason?: string }[];
}

function onlyRun(p: Place): RunJson {
  const result = run(p, ['runs', '--defs', 'defs', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const runs = (JSON.parse(result.stdout) as { runs: RunJson[] }).runs;
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

function validator(schema: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas', schema), 'utf8')));
}

interface GateJson {
  id: string;
  runId: string;
  step: string;
  message: string | null;
  notification: string;
  approvals: { by: string }[];
}

function gates(p: Place): GateJson[] {
  const result = run(p, ['approvals', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const json = JSON.parse(result.stdout);
  const validate = validator('approvals-output.schema.json');
  expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  return json.gates;
}

/** Fires the definition; it must stop at its one gate. Returns the gate's id. */
function fireUntilGate(p: Place): string {
  const fired = fireGated(p);
  expect(fired.code, fired.stderr + fired.stdout).toBe(0);
  const [gate] = gates(p);
  expect(gate).toBeDefined();
  return gate!.id;
}

const approve = (p: Place, gate: string, ...args: string[]) => run(p, ['approve', gate, ...args]);

describe('an approval step', () => {
  it('stops the run at the gate (its trig exits 0), and trig approve from another process runs the rest once', () => {
    const p = stepGate();
    const fired = fireGated(p);
    expect(fired.code, fired.stderr).toBe(0);
    expect(lines(p, 'built.txt')).toEqual(['build']);
    expect(lines(p, 'deployed.txt')).toEqual([]);
    const out = fired.stdout.split('\n');
    const [gate] = gates(p);
    const id = gate!.id;
    expect(out).toContain(`[gated/wait] approval: deploy prod with ***?`);
    expect(out.some((l) => l.startsWith(`[gated/wait] awaiting approval: trig approve ${id} (or trig reject ${id}); until `))).toBe(true);
    expect(out.at(-2)).toMatch(/^1 matched, 0 succeeded, 0 failed, 1 awaiting approval \(trig approvals\) in \S+$/);
    // The message is resolved and masked where it is kept.
    expect(gate).toMatchObject({
      step: 'wait',
      message: 'deploy prod with ***?',
      notification: 'cli: trig approvals lists it',
      approvals: [],
    });
    expect(readFileSync(path.join(p.state, 'trig.db')).includes(SECRET)).toBe(false);
    const waiting = onlyRun(p);
    expect([waiting.status, waiting.reason]).toEqual([
      'awaiting_approval',
      expect.stringMatching(new RegExp(`^step wait: awaiting approval \\(gate ${id}\\) until `)),
    ]);

    const listed = run(p, ['approvals']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^GATE +RUN +DEFINITION +AT +DECISION +TIME LEFT +NOTIFIED +MESSAGE$/);
    expect(listed.stdout.split('\n')[1]).toMatch(
      new RegExp(
        `^${id}  ${waiting.id}  gated +wait  0/1 +23h59m, then reject  cli: trig approvals lists it  deploy prod with \\*\\*\\*\\?$`,
      ),
    );

    const approved = approve(p, id.slice(0, 6), '--as', 'ann', '--comment', 'ship it');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.split('\n').slice(0, 3)).toEqual([
      `approved gate ${id} as ann: the run goes on`,
      `carrying on run ${waiting.id} (gated) after gate ${id}: approved by ann (ship it)`,
      '[gated/wait] approved by ann (ship it)',
    ]);
    expect(lines(p, 'built.txt')).toEqual(['build']);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    expect(lines(p, 'after.txt')).toEqual(['later']);
    const done = onlyRun(p);
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => [s.name, s.status, s.reason])).toEqual([
      ['build', 'succeeded', undefined],
      ['wait', 'succeeded', 'approved by ann (ship it)'],
      ['deploy', 'succeeded', undefined],
      ['later', 'succeeded', undefined],
    ]);
    // Decided: nothing waits, and a second decision is refused.
    expect(run(p, ['approvals']).stdout).toBe('no gates wait for a decision\n');
    const again = approve(p, id, '--as', 'bob');
    expect([again.code, again.stderr]).toEqual([2, `trig: gate ${id} is decided already: approved (by ann)\n`]);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
  });

  it('says so in fire --json (schemas/fire-output.schema.json)', () => {
    const p = stepGate();
    const fired = fireGated(p, ['--json']);
    expect(fired.code, fired.stderr).toBe(0);
    const json = JSON.parse(fired.stdout);
    const validate = validator('fire-output.schema.json');
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.summary).toMatchObject({ matched: 1, succeeded: 0, failed: 0, awaitingApproval: 1 });
    expect(json.definitions[0].run.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['build', 'succeeded'],
      ['wait', 'awaiting_approval'],
    ]);
  });

  it('with min-approvers 2: one approval still waits, the same name twice is refused, a second name runs the rest', () => {
    const p = stepGate(['min-approvers: 2']);
    const id = fireUntilGate(p);
    const first = approve(p, id, '--as', 'ann');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(`^approved gate ${id} as ann: 1 of 2 approvals; the run still waits \\(\\S+Z at the latest\\)\\n$`),
    );
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(gates(p)[0]!.approvals.map((a) => a.by)).toEqual(['ann']);
    const twice = approve(p, id, '--as', 'ann');
    expect([twice.code, twice.stderr]).toEqual([2, `trig: "ann" has decided gate ${id} already: min-approvers counts distinct names\n`]);
    // Spaces around a name do not make another person of it.
    const padded = approve(p, id, '--as', ' ann ');
    expect([padded.code, padded.stderr]).toEqual([2, `trig: "ann" has decided gate ${id} already: min-approvers counts distinct names\n`]);
    expect(lines(p, 'deployed.txt')).toEqual([]);
    // A comment cannot print a line of its own, nor a terminal escape, where the run says who approved it.
    const second = approve(p, id, '--as', 'bob', '--comment', 'ok\u001b[31m\nFAKE: approved by root');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('\nFAKE');
    expect(second.stdout).not.toContain('\u001b');
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    expect(onlyRun(p).steps[1]).toMatchObject({
      name: 'wait',
      status: 'succeeded',
      reason: 'approved by ann, bob (ok\\u001b[31m\\nFAKE: approved by root)',
    });
  });

  it('refuses a name not among the approvers, and takes the default name from the OS user', () => {
    const p = stepGate(['approvers: [ann]']);
    const id = fireUntilGate(p);
    const refused = approve(p, id, '--as', 'mallory');
    expect([refused.code, refused.stderr]).toEqual([2, `trig: "mallory" may not decide gate ${id}: its approvers are "ann"\n`]);
    const user = approve(p, id);
    expect(user.code).toBe(2);
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(approve(p, id, '--as', 'ann').code).toBe(0);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
  });

  it('rejected: the run ends rejected with who and why, and nothing after the gate runs', () => {
    const p = stepGate();
    const id = fireUntilGate(p);
    const rejected = run(p, ['reject', id, '--as', 'bob', '--comment', 'not on a Friday']);
    expect(rejected.code, rejected.stderr).toBe(0);
    const runId = onlyRun(p).id;
    expect(rejected.stdout).toBe(`rejected gate ${id} as bob: run ${runId} (gated) ends rejected\n`);
    const done = onlyRun(p);
    expect([done.status, done.reason]).toEqual(['rejected', 'step wait: rejected by bob: not on a Friday']);
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['build', 'succeeded'],
      ['wait', 'rejected'],
    ]);
    expect(approve(p, id, '--as', 'ann').stderr).toBe(`trig: gate ${id} is decided already: rejected (by bob)\n`);
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(lines(p, 'after.txt')).toEqual([]);
  });

  it('refuses an id that names no gate', () => {
    const p = stepGate();
    fireUntilGate(p);
    expect(approve(p, 'fff').stderr).toBe('trig: no gate fff\n');
    expect(approve(p, 'fff').code).toBe(2);
    expect(approve(p, 'not-hex').stderr).toBe('trig: "not-hex" is not an id (hex digits)\n');
  });

  it('refuses a channel without its settings, at its line (approval-channels.test.ts tests the channels themselves)', () => {
    const p = stepGate([], 'slack');
    const result = run(p, ['validate', 'defs']);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      'defs/gated.yaml:13:19: the slack channel needs url: the address to send the gate to [approval]',
    );
  });
});

describe('gates that time out', () => {
  it('with timeout-action reject (the default): trig approvals ends the run rejected, saying it timed out', async () => {
    const p = stepGate(['timeout: 1s']);
    const id = fireUntilGate(p);
    await delay(1200);
    const listed = run(p, ['approvals']);
    expect(listed.code, listed.stderr).toBe(0);
    const runId = onlyRun(p).id;
    expect(listed.stdout).toBe(
      `gate ${id} (run ${runId}, gated) timed out after 1s: rejected (timeout-action)\nno gates wait for a decision\n`,
    );
    const done = onlyRun(p);
    expect([done.status, done.reason]).toEqual(['rejected', 'step wait: timed out after 1s without a decision (timeout-action: reject)']);
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(approve(p, id, '--as', 'ann').code).toBe(2);
  });

  it('with timeout-action approve: the cron tick carries the run on, recorded as approved by the timeout', async () => {
    const p = stepGate(['timeout: 1s', 'timeout-action: approve']);
    fireUntilGate(p);
    await delay(1200);
    const tick = run(p, [
      'fire',
      '--defs',
      'defs',
      '--event',
      'schedule',
      '--cron',
      '--at',
      `${new Date().toISOString().slice(0, 16)}:00Z`,
    ]);
    expect(tick.code, tick.stderr).toBe(0);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    expect(lines(p, 'after.txt')).toEqual(['later']);
    const done = onlyRun(p);
    expect(done.status).toBe('succeeded');
    expect(done.steps[1]).toMatchObject({ status: 'succeeded', reason: 'approved: no decision within 1s (timeout-action: approve)' });
  });
});

describe("a run's timeout", () => {
  it('counts the wait at the gate: a run approved after it runs nothing more and ends timed_out', async () => {
    const p = place(['  timeout: 1s', '  approval: true', '  stages:', '    - name: s', '      steps:', ...touch('build', 'built.txt')]);
    const id = fireUntilGate(p);
    await delay(1200);
    const approved = approve(p, id, '--as', 'ann');
    expect(approved.code).toBe(1);
    expect(approved.stdout).toContain('[gated] timed out in ');
    expect(lines(p, 'built.txt')).toEqual([]);
    expect(onlyRun(p).steps.map((s) => [s.stage, s.status])).toEqual([
      ['(definition)', 'succeeded'],
      ['s', 'skipped'],
    ]);
  });
});

describe('a gate is never passed without a recorded approval', () => {
  it('trig resume refuses a gated run, and carries on no forged row', () => {
    const p = stepGate();
    const id = fireUntilGate(p);
    const runId = onlyRun(p).id;
    const resumed = run(p, ['resume', runId]);
    expect([resumed.code, resumed.stderr]).toEqual([
      2,
      `trig: run ${runId} waits at a gate: only a decision carries it on (trig approve, or trig intervene; trig approvals lists its gate)\n`,
    ]);
    expect(run(p, ['resume']).stdout).toBe('nothing to resume\n');
    // A row made to look like a due retry, its gate marked approved with no decision recorded.
    const raw = new Database(path.join(p.state, 'trig.db'));
    try {
      raw.prepare("UPDATE runs SET status = 'retrying', resume_at = 0 WHERE id = ?").run(runId);
      raw.prepare("UPDATE gates SET outcome = 'approved' WHERE id = ?").run(id);
    } finally {
      raw.close();
    }
    expect(run(p, ['resume']).stdout).toBe('nothing to resume\n');
    expect(run(p, ['resume', runId]).stdout).toBe('nothing to resume\n');
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(lines(p, 'after.txt')).toEqual([]);
  });

  it('two trig approve racing for the last approval: the run is carried on exactly once', async () => {
    const p = stepGate();
    const id = fireUntilGate(p);
    const racer = (name: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [TRIG, 'approve', id, '--as', name], {
          cwd: p.dir,
          env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR, ...p.env },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const results = await Promise.all([racer('ann'), racer('bob')]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
    expect(results.find((r) => r.code === 2)!.out).toMatch(
      new RegExp(`^trig: gate ${id} is decided already: approved \\(by (ann|bob)\\)\\n$`),
    );
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    expect(lines(p, 'after.txt')).toEqual(['later']);
    expect(onlyRun(p).status).toBe('succeeded');
  });
});

describe('approval stages and definitions', () => {
  it('an approval stage waits; approved, the stages after it run', () => {
    const p = place([
      '  stages:',
      '    - name: build',
      '      steps:',
      ...touch('build', 'built.txt'),
      '    - name: sign-off',
      '      approval:',
      '        uses: harness',
      '        with: {timeout: 30m, message: "this is an approval prompt", groups: [admins], min-approvers: 1}',
      '    - name: prod',
      '      steps:',
      ...touch('deploy', 'deployed.txt'),
    ]);
    const id = fireUntilGate(p);
    expect(gates(p)[0]).toMatchObject({ step: 'sign-off', message: 'this is an approval prompt' });
    expect(lines(p, 'deployed.txt')).toEqual([]);
    expect(onlyRun(p).reason).toMatch(new RegExp(`^stage sign-off: awaiting approval \\(gate ${id}\\) until `));
    expect(approve(p, id, '--as', 'ann').code).toBe(0);
    expect(lines(p, 'deployed.txt')).toEqual(['deploy']);
    expect(onlyRun(p).steps.map((s) => [s.stage, s.name, s.status])).toEqual([
      ['build', 'build', 'succeeded'],
      ['sign-off', null, 'succeeded'],
      ['prod', 'deploy', 'succeeded'],
    ]);
  });

  it('approval: true on a definition gates the whole run before its first step', () => {
    const p = place(['  approval: true', '  stages:', '    - name: s', '      steps:', ...touch('build', 'built.txt')]);
    const fired = fireGated(p);
    expect(fired.code, fired.stderr).toBe(0);
    expect(lines(p, 'built.txt')).toEqual([]);
    const [gate] = gates(p);
    expect(gate).toMatchObject({ step: '(definition)', message: null });
    expect(onlyRun(p).reason).toMatch(/^approval: awaiting approval \(gate [0-9a-f]{12}\) until /);
    const rejected = run(p, ['reject', gate!.id, '--as', 'bob']);
    expect(rejected.code).toBe(0);
    expect(onlyRun(p)).toMatchObject({ status: 'rejected', reason: 'approval: rejected by bob' });
    expect(lines(p, 'built.txt')).toEqual([]);
  });

  it('approval: {…} on a definition takes its settings directly; approved, the run starts', () => {
    const p = place([
      '  approval: {message: "run on <+trigger.environment>?", approvers: [ann, bob], min-approvers: 2}',
      '  stages:',
      '    - name: s',
      '      steps:',
      ...touch('build', 'built.txt'),
    ]);
    const id = fireUntilGate(p);
    expect(gates(p)[0]).toMatchObject({ message: 'run on prod?' });
    expect(approve(p, id, '--as', 'ann').code).toBe(0);
    expect(lines(p, 'built.txt')).toEqual([]);
    expect(approve(p, id, '--as', 'bob').code).toBe(0);
    expect(lines(p, 'built.txt')).toEqual(['build']);
    expect(onlyRun(p).steps.map((s) => [s.stage, s.name, s.status, s.reason])).toEqual([
      ['(definition)', null, 'succeeded', 'approved by ann, bob'],
      ['s', 'build', 'succeeded', undefined],
    ]);
  });

  it('an approval inside a parallel block cannot wait: it blocks the run, as does a fire --dry-run plan show it', () => {
    const p = place([
      '  stages:',
      '    - name: s',
      '      steps:',
      '        - name: both',
      '          parallel:',
      '            steps:',
      '              - name: gate',
      '                approval: {uses: harness}',
      ...touch('side', 'side.txt').map((l) => `      ${l}`),
      ...touch('deploy', 'deployed.txt'),
    ]);
    const fired = fireGated(p);
    expect(fired.code).toBe(1);
    expect(fired.stdout).toContain(
      '[gated/both/gate] blocked: an approval inside a parallel block cannot wait for a decision: the run stops here',
    );
    expect(lines(p, 'deployed.txt')).toEqual([]);
    const planned = fireGated(p, ['--dry-run']);
    expect(planned.stdout).toContain('step gate: approval: the run waits here for a decision (trig approve)');
  });
});

describe('trig approvals with no store', () => {
  it('says nothing waits, and creates nothing', () => {
    const p = stepGate();
    expect(run(p, ['approvals']).stdout).toBe('no gates wait for a decision\n');
    expect(JSON.parse(run(p, ['approvals', '--json']).stdout)).toEqual({ gates: [], expired: [] });
    expect(existsSync(p.state)).toBe(false);
  });
});
