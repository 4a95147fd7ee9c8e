import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { killServers, SECRETS_ENV, startServe, until } from '../helpers/serve.js';
import { CACHE_DIR, TRIG, trig, type TrigResult } from '../helpers/trig.js';
import { fileLines } from '../helpers/files.js';

// Retries whose wait survives the trig that started it, through the built bin/trig: a
// step that fails twice and then succeeds (a counter file), its trig killed with SIGKILL
// during a wait, then the cron tick or `trig resume` carries the run on to its end.

interface Place {
  dir: string;
  state: string;
  env: NodeJS.ProcessEnv;
}

const SECRET = 's3cr3t-token-value';

/** `flaky` fails its first `failures` tries (a counter file), appending each try to tries.txt; `followed` listens to its end. */
function place(interval: string, failures = 2): Place {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-resume-'));
  mkdirSync(path.join(dir, 'defs'));
  writeFileSync(
    path.join(dir, 'defs', 'flaky.yaml'),
    [
      'pipeline:',
      '  name: flaky',
      '  on: workflow_dispatch',
      '  inputs:',
      '    token: {type: secret, default: token}',
      '  stages:',
      '    - name: s',
      '      steps:',
      '        - name: first',
      '          run: {shell: sh, script: echo first >> first.txt}',
      '        - name: try',
      '          run:',
      '            shell: sh',
      '            script: |',
      '              n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count',
      '              echo "try $n" >> tries.txt; echo "try $n"; printf %s "$TOKEN" > token.txt',
      `              [ "$n" -gt ${failures} ]`,
      '            env:',
      '              TOKEN: <+inputs.token>',
      '          on-failure:',
      '            errors: all',
      '            action:',
      '              retry:',
      '                attempts: 3',
      `                interval: ${interval}`,
      '        - name: after',
      '          run: {shell: sh, script: echo after >> after.txt}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'defs', 'followed.yaml'),
    [
      'pipeline:',
      '  name: followed',
      '  on: [{workflow_run: {workflows: [flaky]}}]',
      '  stages:',
      '    - name: s',
      '      steps:',
      '        - name: note',
      '          run: {shell: sh, script: echo "<+trigger.conclusion> <+trigger.runId>" >> followed.txt}',
      '',
    ].join('\n'),
  );
  const state = path.join(dir, 'state');
  return { dir, state, env: { TRIG_STATE_DIR: state, TRIG_SECRET_TOKEN: SECRET } };
}

function run(p: Place, args: string[]): TrigResult {
  return trig(args, { cwd: p.dir, env: p.env });
}

const fire = (p: Place, args: string[] = []) => run(p, ['fire', '--defs', 'defs', '--event', 'workflow_dispatch', ...args]);
const tick = (p: Place) =>
  run(p, ['fire', '--defs', 'defs', '--event', 'schedule', '--cron', '--at', `${new Date().toISOString().slice(0, 16)}:00Z`]);

const lines = (p: Place, file: string): string[] => fileLines(p.dir, file);

interface RunJson {
  id: string;
  status: string;
  definition: string;
  reason: string | null;
  steps: { name: string | null; status: string; attempts?: { attempt: number; status: string }[] }[];
}

function runs(p: Place): RunJson[] {
  const result = run(p, ['runs', '--defs', 'defs', '--json']);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { runs: RunJson[] }).runs;
}

/** The suspended runs as the store has them (their due time). */
async function suspended(p: Place) {
  const store = openSqliteStore(p.state);
  try {
    return await store.resumableRuns();
  } finally {
    store.close();
  }
}

/** Starts `trig fire` in a process group of its own; resolves once its run waits for a retry. */
async function fireUntilRetrying(p: Place): Promise<{ pid: number; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [TRIG, 'fire', '--defs', 'defs', '--event', 'workflow_dispatch'], {
    cwd: p.dir,
    env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR, ...p.env },
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; ; i++) {
    if (existsSync(path.join(p.state, 'trig.db')) && (await suspended(p)).length) break;
    if (i > 1000) throw new Error('the run never waited for a retry');
    await delay(20);
  }
  return { pid: child.pid!, exited };
}

/** Waits until every suspended run is due. */
async function untilDue(p: Place): Promise<void> {
  const latest = Math.max(...(await suspended(p)).map((s) => s.resumeAt.getTime()));
  while (Date.now() <= latest) await delay(50);
}

function expectFinishedAsOneRun(p: Place): void {
  const all = runs(p);
  const flaky = all.filter((r) => r.definition === 'flaky');
  expect(flaky).toHaveLength(1);
  expect(flaky[0]!.status).toBe('succeeded');
  const steps = flaky[0]!.steps;
  expect(steps.map((s) => [s.name, s.status])).toEqual([
    ['first', 'succeeded'],
    ['try', 'succeeded'],
    ['after', 'succeeded'],
  ]);
  expect(steps[1]!.attempts!.map((a) => [a.attempt, a.status])).toEqual([
    [1, 'failed'],
    [2, 'failed'],
    [3, 'succeeded'],
  ]);
  // Each step's side effects happened exactly as often as it ran.
  expect(lines(p, 'first.txt')).toEqual(['first']);
  expect(lines(p, 'tries.txt')).toEqual(['try 1', 'try 2', 'try 3']);
  expect(lines(p, 'after.txt')).toEqual(['after']);
  // The run's end fired workflow_run once, when it ended.
  expect(lines(p, 'followed.txt')).toEqual([`success ${flaky[0]!.id}`]);
  expect(all.filter((r) => r.definition === 'followed').map((r) => r.status)).toEqual(['succeeded']);
}

describe('a retry whose trig is killed during the wait', () => {
  it('is left waiting (not lost), and the next cron tick after its time carries the run on to its end as the same run', async () => {
    const p = place('[1s, 2s]');
    const victim = await fireUntilRetrying(p);
    process.kill(-victim.pid, 'SIGKILL');
    await victim.exited;
    expect(lines(p, 'tries.txt')).toEqual(['try 1']);
    // trig runs settles lost runs: this one is resumable, not lost.
    const [waiting] = runs(p);
    expect([waiting!.status, waiting!.reason]).toEqual([
      'retrying',
      expect.stringMatching(/^step try: attempt 1 of 4 failed: exited with code 1; next attempt at /),
    ]);
    expect(waiting!.steps.map((s) => [s.name, s.status])).toEqual([
      ['first', 'succeeded'],
      ['try', 'retrying'],
    ]);
    await untilDue(p);
    const ticked = tick(p);
    expect(ticked.stderr).toBe('');
    expect(ticked.code).toBe(0);
    expect(ticked.stdout).toContain('[flaky/try] resumed: attempt 2 of 4\n');
    expect(ticked.stdout).toContain('[flaky/try] succeeded on attempt 3 of 4\n');
    expectFinishedAsOneRun(p);
    // One log, from the first try to the end; the secret input was read again, and was never stored.
    const log = run(p, ['logs', waiting!.id]);
    expect(log.stdout.split('\n').filter((l) => l.startsWith('[flaky/try] try'))).toEqual([
      '[flaky/try] try 1',
      '[flaky/try] try 2',
      '[flaky/try] try 3',
    ]);
    expect(readFileSync(path.join(p.dir, 'token.txt'), 'utf8')).toBe(SECRET);
    for (const file of ['trig.db', 'trig.db-wal']) {
      if (existsSync(path.join(p.state, file))) expect(readFileSync(path.join(p.state, file)).includes(SECRET)).toBe(false);
    }
    // Nothing waits any more: the hint file is gone, and a tick does nothing more.
    expect(existsSync(path.join(p.state, 'resumable'))).toBe(false);
    expect(tick(p)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('is carried on by exactly one of several trig resume started together', async () => {
    const p = place('[1s, 2s]');
    const victim = await fireUntilRetrying(p);
    process.kill(-victim.pid, 'SIGKILL');
    await victim.exited;
    await untilDue(p);
    const racers = Array.from(
      { length: 4 },
      () =>
        new Promise<{ code: number | null; stdout: string }>((resolve) => {
          const child = spawn(process.execPath, [TRIG, 'resume'], {
            cwd: p.dir,
            env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR, ...p.env },
          });
          let stdout = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.once('close', (code) => resolve({ code, stdout }));
        }),
    );
    const results = await Promise.all(racers);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(results.filter((r) => r.stdout.includes('resuming run ')).length).toBe(1);
    // A loser that looks while the winner waits for the second retry in-process says so:
    // as not due yet, or (once due) as waited for by its trig. A loaded machine starts
    // losers late enough for either.
    const waits = String.raw`run [0-9a-f]{12}: its trig process \(pid \d+\) waits for the next attempt itself`;
    const notDue = String.raw`run [0-9a-f]{12} waits for its next attempt, due at \S+Z`;
    const loser = new RegExp(`^nothing to resume\\n((${waits}|${notDue})\\n)?$`);
    expect(results.filter((r) => loser.test(r.stdout)).length).toBe(3);
    expectFinishedAsOneRun(p);
  });
});

describe('a retry whose trig is killed during the wait, with trig serve running', () => {
  it('is carried on by trig serve once due, as the same run, and the receiver stops cleanly after', async () => {
    const p = place('[1s, 2s]');
    const victim = await fireUntilRetrying(p);
    process.kill(-victim.pid, 'SIGKILL');
    await victim.exited;
    const server = await startServe(['--defs', 'defs'], { cwd: p.dir, env: { ...SECRETS_ENV, ...p.env } });
    try {
      // Its log line comes once the run, and the runs its end started, are over.
      const logged = await until('the resumed run to be logged', () => {
        const resumed = server.logLines().filter((l) => l.kind === 'resumed');
        return resumed.length > 0 && resumed;
      });
      expectFinishedAsOneRun(p);
      expect(logged.map((l) => [l.definition, l.status])).toEqual([['flaky', 'succeeded']]);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      killServers();
    }
  });
});

describe('a retry that waits longer than a minute', () => {
  it('is handed over: trig fire exits with the run waiting; trig resume leaves it until due, then finishes it', async () => {
    const p = place('[90s, 1s]');
    const fired = fire(p);
    expect(fired.code).toBe(0);
    expect(fired.stdout).toContain('[flaky/try] attempt 1 of 4 failed: exited with code 1; retrying in 1m30s\n');
    expect(fired.stdout).toMatch(
      /\[flaky\/try\] waiting for attempt 2 of 4 at \S+Z: the next trig fire --cron tick or trig resume runs it\n/,
    );
    expect(fired.stdout).toMatch(/\[flaky\] retrying \(step try: attempt 1 of 4 failed: exited with code 1; next attempt at \S+Z\)\n/);
    expect(fired.stdout).toMatch(/^1 matched, 0 succeeded, 0 failed, 1 waiting for a retry in \S+$/m);
    const [waiting] = runs(p);
    expect(waiting!.status).toBe('retrying');
    expect(existsSync(path.join(p.state, 'resumable'))).toBe(true);
    const { resumeAt } = (await suspended(p))[0]!;
    expect(resumeAt.getTime()).toBeGreaterThan(Date.now());

    // Not due: neither trig resume nor the tick touches it.
    const early = run(p, ['resume']);
    expect(early.code).toBe(0);
    expect(early.stdout).toBe(
      `nothing to resume\nrun ${waiting!.id} waits for its next attempt, due at ${resumeAt.toISOString().slice(0, 19)}Z\n`,
    );
    expect(tick(p).code).toBe(0);
    expect(lines(p, 'tries.txt')).toEqual(['try 1']);
    expect(runs(p)[0]!.status).toBe('retrying');

    // As if the 90 seconds had passed.
    const db = new Database(path.join(p.state, 'trig.db'));
    db.prepare('UPDATE runs SET resume_at = ? WHERE id = ?').run(Date.now() - 1000, waiting!.id);
    db.close();
    const resumed = run(p, ['resume', waiting!.id.slice(0, 6)]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toBe(`resuming run ${waiting!.id} (flaky): step try, attempt 2`);
    expectFinishedAsOneRun(p);
    const again = run(p, ['resume', waiting!.id]);
    expect([again.code, again.stderr]).toEqual([2, `trig: run ${waiting!.id} is not waiting to be resumed (it is succeeded)\n`]);
  });
});
