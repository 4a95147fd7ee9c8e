import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { thisProcess } from '../../src/fire/record.js';
import { runIdOf } from '../../src/store/ids.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { CACHE_DIR, ROOT, TRIG, trig, type TrigResult } from '../helpers/trig.js';

// trig runs, logs, history and prune, against runs made by real `trig fire` processes in a
// real SQLite file (a fresh TRIG_STATE_DIR per scenario). Times and durations vary from
// run to run: they are the only parts of the output matched by patterns.

const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g;
const DURATION = /\b(\d+ms|\d+\.\ds|\d+m(\d+s)?)(?=\s|\)|$)/g;

function temp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `trig-store-${prefix}-`));
}

/** A project folder with these files under .harness/. */
function project(files: Record<string, string>): string {
  const dir = temp('project');
  mkdirSync(path.join(dir, '.harness'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, '.harness', name), text);
  return dir;
}

function pipeline(name: string, on: string, script: string, step = 'main'): string {
  const body = script
    .split('\n')
    .map((line) => `              ${line}`)
    .join('\n');
  return `version: 1\npipeline:\n  name: ${name}\n  on: ${on}\n  stages:\n    - name: s\n      steps:\n        - name: ${step}\n          run:\n            shell: sh\n            script: |\n${body}\n`;
}

const env = (state: string, more: NodeJS.ProcessEnv = {}) => ({ TRIG_STATE_DIR: state, ...more });

function fire(cwd: string, state: string, event: string, args: string[] = [], more: NodeJS.ProcessEnv = {}): TrigResult {
  return trig(['fire', '--event', event, '--workdir', temp('work'), ...args], { cwd, env: env(state, more) });
}

/** The runs as `trig runs --all --json` gives them, by definition name. */
function runIds(state: string): Record<string, string> {
  const { runs } = JSON.parse(trig(['runs', '--all', '--json', '--limit', '1000'], { env: env(state) }).stdout) as {
    runs: { id: string; definition: string }[];
  };
  return Object.fromEntries(runs.map((r) => [r.definition, r.id]));
}

/** Text output with times and durations masked, and column padding shown as ` | `. */
function masked(text: string): string[] {
  return text.replace(TIME, '<time>').replace(DURATION, '<duration>').replace(/ {2,}/g, ' | ').trimEnd().split('\n');
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, validateFormats: false });
const schema = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'schemas', `${name}.schema.json`), 'utf8')) as object;
ajv.addSchema(schema('runs-output'));
const validators = {
  runs: ajv.getSchema('runs-output.schema.json')!,
  logs: ajv.compile(schema('logs-output')),
  history: ajv.compile(schema('history-output')),
  prune: ajv.compile(schema('prune-output')),
};

function validJson(kind: keyof typeof validators, result: TrigResult): unknown {
  expect(result.code).toBe(0);
  const json = JSON.parse(result.stdout) as unknown;
  const validate = validators[kind];
  expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  return json;
}

describe('the store commands before anything was recorded', () => {
  it('say so, exit 0, and create neither the store nor its folder', () => {
    const state = path.join(temp('none'), 'state');
    for (const command of [['runs'], ['runs', '--all'], ['history'], ['prune'], ['prune', '--keep', '5']]) {
      const result = trig(command, { env: env(state) });
      expect([result.code, result.stdout, result.stderr]).toEqual([0, 'no runs recorded yet\n', '']);
    }
    expect(validJson('runs', trig(['runs', '--json'], { env: env(state) }))).toEqual({ runs: [] });
    expect(validJson('history', trig(['history', '--json'], { env: env(state) }))).toEqual({ events: [] });
    expect(validJson('prune', trig(['prune', '--keep', '0', '--json'], { env: env(state) }))).toEqual({
      removed: { events: 0, runs: 0 },
      keep: 0,
    });
    const logs = trig(['logs', 'abc'], { env: env(state) });
    expect([logs.code, logs.stdout, logs.stderr]).toEqual([2, '', 'trig: no run abc (no runs recorded yet)\n']);
    expect(existsSync(state)).toBe(false);
  });
});

describe('trig runs, logs, history and prune over real fires', () => {
  const state = temp('state');
  const here = project({
    'a.yaml': `${pipeline('pass', 'deploy', 'echo hello from pass', 'hello')}---\n${pipeline('fail', 'deploy', 'echo about to fail\nexit 3', 'breaks')}`,
  });
  const elsewhere = project({ 'b.yaml': pipeline('other', 'rollback', 'echo other ran') });
  let ids: Record<string, string> = {};

  beforeAll(() => {
    expect(fire(here, state, 'deploy').code).toBe(1);
    expect(fire(elsewhere, state, 'rollback', ['--delivery-id', 'delivery-1']).code).toBe(0);
    expect(fire(elsewhere, state, 'deploy', ['--delivery-id', 'delivery-2']).code).toBe(0);
    ids = runIds(state);
  });

  it('lists the runs of the definitions here, newest first, aligned under a header', () => {
    const result = trig(['runs'], { cwd: here, env: env(state) });
    expect(result.code).toBe(0);
    expect(masked(result.stdout).sort()).toEqual(
      [
        'RUN | STATUS | DEFINITION | EVENT | STARTED | DURATION | RESULT',
        `${ids.pass} | succeeded | pass | deploy | <time> | <duration> | exit 0`,
        `${ids.fail} | failed | fail | deploy | <time> | <duration> | exit 3: step breaks: exited with code 3`,
      ].sort(),
    );
    const lines = result.stdout.trimEnd().split('\n');
    for (const column of ['STATUS', 'DEFINITION', 'EVENT', 'STARTED', 'DURATION', 'RESULT']) {
      const at = lines[0]!.indexOf(column);
      for (const line of lines.slice(1)) expect(line[at - 1]).toBe(' ');
      for (const line of lines.slice(1)) expect(line[at]).not.toBe(' ');
    }
    expect(masked(trig(['runs'], { cwd: elsewhere, env: env(state) }).stdout)).toEqual([
      'RUN | STATUS | DEFINITION | EVENT | STARTED | DURATION | RESULT',
      `${ids.other} | succeeded | other | rollback | <time> | <duration> | exit 0`,
    ]);
  });

  it('filters by status, definition, event, time, place, and limits', () => {
    const lines = (args: string[], cwd = here) => {
      const result = trig(['runs', ...args], { cwd, env: env(state) });
      expect(result.code).toBe(0);
      return result.stdout.trimEnd().split('\n');
    };
    expect(lines(['--all'])).toHaveLength(4);
    expect(lines(['--all', '--limit', '2'])).toHaveLength(3);
    expect(
      lines(['--status', 'failed'])
        .slice(1)
        .map((l) => l.split(' ')[0]),
    ).toEqual([ids.fail]);
    expect(
      lines(['--definition', 'pass'])
        .slice(1)
        .map((l) => l.split(' ')[0]),
    ).toEqual([ids.pass]);
    expect(
      lines(['--all', '--event', 'rollback'])
        .slice(1)
        .map((l) => l.split(' ')[0]),
    ).toEqual([ids.other]);
    expect(lines(['--since', '1h'])).toHaveLength(3);
    expect(
      lines(['--defs', path.join(elsewhere, '.harness', 'b.yaml')])
        .slice(1)
        .map((l) => l.split(' ')[0]),
    ).toEqual([ids.other]);
    expect(lines(['--event', 'rollback'])).toEqual(['no runs match']);
    expect(lines([], temp('empty'))).toEqual(['no runs of the definitions here (trig runs --all shows those of every place)']);
  });

  it('refuses bad flags with one line and exit 2', () => {
    const cases: [string[], string][] = [
      [
        ['--status', 'faild'],
        '--status "faild": not a run status; did you mean "failed"? (one of queued, running, waiting, retrying, succeeded, failed, timed_out, cancelled, lost, skipped, blocked, awaiting_approval, rejected)',
      ],
      [['--since', '1x'], '--since "1x": expected a duration such as 90m, 12h or 7d'],
      [['--limit', '0'], '--limit "0": expected a positive whole number'],
      [['--event', 'deplyo'], 'unknown event "deplyo"; did you mean "deploy"? (see the event list in the README)'],
      [['--all', '--defs', '.harness'], '--all and --defs do not go together: --all shows every place'],
    ];
    for (const [args, message] of cases) {
      const result = trig(['runs', ...args], { cwd: here, env: env(state) });
      expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `trig: ${message}\n`]);
    }
  });

  it("prints a run's stored log as trig fire printed it, by a unique start of its id", () => {
    const result = trig(['logs', ids.fail!.slice(0, 8)], { env: env(state) });
    expect(result.code).toBe(0);
    expect(masked(result.stdout)).toEqual([
      '[fail/breaks] about to fail',
      '[fail/breaks] failed: exited with code 3',
      '[fail] failed in <duration> (step breaks: exited with code 3)',
    ]);
    expect(trig(['logs', ids.pass!, '--step', 'hello'], { env: env(state) }).stdout).toBe('[pass/hello] hello from pass\n');
    const json = validJson('logs', trig(['logs', ids.fail!, '--json'], { env: env(state) })) as {
      run: { id: string; status: string; exitCode: number };
      droppedBytes: number;
      lines: { seq: number; step: string | null; text: string }[];
    };
    expect(json.run).toMatchObject({ id: ids.fail, status: 'failed', exitCode: 3 });
    expect(json.droppedBytes).toBe(0);
    expect(json.lines.map((l) => [l.seq, l.step, l.text.replace(DURATION, '<duration>')])).toEqual([
      [1, 'breaks', 'about to fail'],
      [2, 'breaks', 'failed: exited with code 3'],
      [3, null, 'failed in <duration> (step breaks: exited with code 3)'],
    ]);
  });

  it('refuses a run id it does not hold, and a step the run does not have, with exit 2', () => {
    const cases: [string[], string][] = [
      [['fffffffffffff'], 'no run fffffffffffff'],
      [['zz'], '"zz" is not an id (hex digits)'],
      [[ids.fail!, '--step', 'braeks'], `run ${ids.fail} has no step "braeks"; did you mean "breaks"? (steps: breaks)`],
      [[ids.fail!, '--json', '--follow'], '--json and --follow do not go together: --json prints one document'],
    ];
    for (const [args, message] of cases) {
      const result = trig(['logs', ...args], { env: env(state) });
      expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `trig: ${message}\n`]);
    }
  });

  it('lists the events received with what each matched and the runs it started', () => {
    const result = trig(['history', '--all'], { env: env(state) });
    expect(result.code).toBe(0);
    const eventIds = (
      JSON.parse(trig(['history', '--all', '--json'], { env: env(state) }).stdout) as { events: { id: string }[] }
    ).events.map((e) => e.id);
    expect(result.stdout.replace(TIME, '<time>').split('\n')).toEqual([
      `${eventIds[0]}  <time>  deploy  from cli  delivery delivery-2`,
      '  other: not matched: no entry listens to deploy (on: rollback)',
      `${eventIds[1]}  <time>  rollback  from cli  delivery delivery-1`,
      `  other: matched on: rollback → run ${ids.other} succeeded`,
      `${eventIds[2]}  <time>  deploy  from cli`,
      `  pass: matched on: deploy → run ${ids.pass} succeeded`,
      `  fail: matched on: deploy → run ${ids.fail} failed`,
      '',
    ]);
    expect(trig(['history'], { cwd: here, env: env(state) }).stdout.split('\n')[0]).toMatch(new RegExp(`^${eventIds[2]} `));
    expect(trig(['history', '--all', '--limit', '1'], { env: env(state) }).stdout.split('\n')).toHaveLength(3);
    const json = validJson('history', trig(['history', '--all', '--json'], { env: env(state) })) as {
      events: { source: string; deliveryKey: string | null; decisions: { definition: string; run?: { id: string; status: string } }[] }[];
    };
    expect(json.events.map((e) => [e.deliveryKey, e.decisions.map((d) => [d.definition, d.run?.status ?? null])])).toEqual([
      ['delivery-2', [['other', null]]],
      ['delivery-1', [['other', 'succeeded']]],
      [
        null,
        [
          ['pass', 'succeeded'],
          ['fail', 'failed'],
        ],
      ],
    ]);
  });

  it('validates every JSON output of trig runs against its schema', () => {
    const json = validJson('runs', trig(['runs', '--all', '--json'], { env: env(state) })) as { runs: { id: string; steps: unknown[] }[] };
    expect(json.runs.map((r) => r.id).sort()).toEqual(Object.values(ids).sort());
  });

  it('prunes old events with their runs and logs, saying what it removed', () => {
    const state2 = temp('prune');
    for (const id of ['p-1', 'p-2', 'p-3']) expect(fire(elsewhere, state2, 'rollback', ['--delivery-id', id]).code).toBe(0);
    const nothing = trig(['prune'], { env: env(state2) });
    expect([nothing.code, nothing.stdout.replace(TIME, '<time>')]).toEqual([
      0,
      'removed 0 events and 0 runs with their logs (events received before <time>; runs not over are kept)\n',
    ]);
    const kept = trig(['prune', '--keep', '1'], { env: env(state2) });
    expect(kept.stdout).toBe('removed 2 events and 2 runs with their logs (events beyond the newest 1; runs not over are kept)\n');
    expect(validJson('prune', trig(['prune', '--keep', '0', '--json'], { env: env(state2) }))).toEqual({
      removed: { events: 1, runs: 1 },
      keep: 0,
    });
    expect(trig(['runs', '--all'], { env: env(state2) }).stdout).toBe('no runs recorded\n');
    const bad = trig(['prune', '--older-than', 'soon'], { env: env(state2) });
    expect([bad.code, bad.stderr]).toEqual([2, 'trig: --older-than "soon": expected a duration such as 12h, 30d\n']);
  });
});

describe('runs that share the start of their ids, and runs not started', () => {
  it('refuses a start of an id that several runs share, listing them; lists queued runs without a duration', async () => {
    const state = temp('ambiguous');
    // Run ids are hashes of their keys: of 17 keys, two share their first hex digit.
    const keys: string[] = [];
    let shared: string | undefined;
    for (let i = 0; !shared; i++) {
      const key = `key-${i}`;
      shared = keys.map(runIdOf).find((id) => id[0] === runIdOf(key)[0])?.[0];
      keys.push(key);
    }
    const store = openSqliteStore(state);
    try {
      const runs = keys.map((key) => ({ key, file: '/defs/a.yaml', definition: `d-${key}` }));
      const decisions = runs.map((r) => ({ file: r.file, definition: r.definition, matched: true, reason: 'matched on: deploy' }));
      // Queued, owned by this (living) process: nothing reaps them.
      await store.admitEvent(
        { name: 'deploy', source: 'cli', at: new Date(), places: ['/defs'], payload: {} },
        { decisions, runs, owner: thisProcess() },
      );
    } finally {
      store.close();
    }
    const sharing = keys
      .map(runIdOf)
      .filter((id) => id[0] === shared)
      .sort();
    const result = trig(['logs', shared!], { env: env(state) });
    expect([result.code, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(
      new RegExp(`^trig: ${shared} is the start of several runs \\(([0-9a-f]{12}(, |\\)))+; give more of it\n$`),
    );
    for (const id of sharing.slice(0, 5)) expect(result.stderr).toContain(id);
    expect(trig(['logs', sharing[0]!.slice(0, 11)], { env: env(state) }).code).toBe(0);
    const queued = masked(trig(['runs', '--all', '--status', 'queued', '--limit', '1'], { env: env(state) }).stdout);
    expect(queued[1]).toMatch(/^[0-9a-f]{12} \| queued \| d-key-\d+ \| deploy \| <time> \| -$/);
  });
});

/** Runs trig as a child process of its own, for commands that go on while the test acts. */
function start(args: string[], cwd: string, state: string): { pid: number; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [TRIG, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TRIG_CACHE_DIR: CACHE_DIR, TRIG_STATE_DIR: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { pid: child.pid!, output: () => out, exit: new Promise((resolve) => child.on('close', resolve)) };
}

/** Whether a process lives: a zombie (dead, not yet reaped by an init that never reaps) does not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await delay(50);
  }
}

describe('trig logs --follow', () => {
  it('prints the lines of a run still going as they come, then its end line, and exits 0; prune keeps the run', async () => {
    const state = temp('follow');
    const work = temp('work');
    const dir = project({
      'slow.yaml': pipeline('slow', 'deploy', 'echo early\ntouch started\nwhile [ ! -f go ]; do sleep 0.05; done\necho late', 'wait'),
    });
    const firing = start(['fire', '--event', 'deploy', '--workdir', work], dir, state);
    await until(() => existsSync(path.join(work, 'started')), 'the step to start');
    const running = JSON.parse(trig(['runs', '--status', 'running', '--json'], { cwd: dir, env: env(state) }).stdout) as {
      runs: { id: string; endedAt: string | null }[];
    };
    expect(running.runs).toHaveLength(1);
    expect(running.runs[0]!.endedAt).toBeNull();
    const id = running.runs[0]!.id;

    // A run that is not over is never pruned.
    expect(trig(['prune', '--keep', '0'], { env: env(state) }).stdout).toBe(
      'removed 0 events and 0 runs with their logs (events beyond the newest 0; runs not over are kept)\n',
    );

    const following = start(['logs', id, '--follow'], dir, state);
    await until(() => following.output().includes('early'), 'the follower to print the first line');
    expect(following.output()).toBe('[slow/wait] early\n');
    writeFileSync(path.join(work, 'go'), '');
    expect(await following.exit).toBe(0);
    expect(masked(following.output())).toEqual(['[slow/wait] early', '[slow/wait] late', '[slow] succeeded in <duration>']);
    expect(await firing.exit).toBe(0);
    expect(trig(['logs', id, '--follow'], { env: env(state) }).stdout).toBe(following.output());
  });
  it('ends when the trig process of the run dies: the run is found lost, and its step stopped', async () => {
    const state = temp('follow-lost');
    const work = temp('work');
    const dir = project({
      'slow.yaml': pipeline('slow', 'deploy', 'echo early\necho $$ > step.pid\nwhile [ ! -f go ]; do sleep 0.05; done\necho late', 'wait'),
    });
    const firing = start(['fire', '--event', 'deploy', '--workdir', work], dir, state);
    await until(
      () => existsSync(path.join(work, 'step.pid')) && readFileSync(path.join(work, 'step.pid'), 'utf8').endsWith('\n'),
      'the step',
    );
    const id = (
      JSON.parse(trig(['runs', '--status', 'running', '--json'], { cwd: dir, env: env(state) }).stdout) as { runs: { id: string }[] }
    ).runs[0]!.id;
    const following = start(['logs', id, '--follow'], dir, state);
    await until(() => following.output().includes('early'), 'the follower to print the first line');
    process.kill(firing.pid, 'SIGKILL');
    expect(await following.exit).toBe(0);
    expect(following.output()).toBe(`[slow/wait] early\n[slow] lost: the trig process that ran it (pid ${firing.pid}) died\n`);
    // The step the dead trig left behind was stopped: it never got to its last line.
    const stepPid = Number(readFileSync(path.join(work, 'step.pid'), 'utf8'));
    await until(() => !alive(stepPid), 'the step to be stopped');
    writeFileSync(path.join(work, 'go'), '');
    expect(
      trig(['runs', '--status', 'lost'], { cwd: dir, env: env(state) })
        .stdout.split('\n')[1]!
        .slice(0, 12),
    ).toBe(id);
  });
});

describe('what the store keeps of a run', () => {
  const KEY = 'sk-test-5f4dcc3b5aa765d6';
  const CERT_LINES = ['-----BEGIN TEST CERT-----', 'MIIBszCCAVmgAwIBAgIUa1b2c3', 'ZXhhbXBsZSBzZWNyZXQgbGluZQ', '-----END TEST CERT-----'];

  it('stores secret values masked: trig logs shows ***, and the database holds no secret', () => {
    const state = temp('secrets');
    const result = trig(
      ['fire', '--defs', path.join(ROOT, 'fixtures/runs/secrets.yaml'), '--event', 'scan_complete', '--workdir', temp('work')],
      { env: env(state, { TRIG_SECRET_TRIG_TEST_API_KEY: KEY, TRIG_SECRET_TRIG_TEST_CERT: CERT_LINES.join('\n') }) },
    );
    expect(result.code).toBe(1);
    const logs = trig(['logs', runIds(state)['secret-echo']!], { env: env(state) });
    // The step's stdout and stderr are read apart: their lines may interleave either way.
    expect(masked(logs.stdout).sort()).toEqual(
      [
        '[secret-echo/echo] key is ***',
        '[secret-echo/echo] to stderr: ***',
        '[secret-echo/echo] cert follows',
        '[secret-echo/echo] ***',
        '[secret-echo/echo] ***',
        '[secret-echo/echo] ***',
        '[secret-echo/echo] ***',
        '[secret-echo/fails] failing with ***',
        '[secret-echo/fails] failed: exited with code 2',
        '[secret-echo] failed in <duration> (step fails: exited with code 2)',
      ].sort(),
    );
    for (const file of ['trig.db', 'trig.db-wal']) {
      const bytes = existsSync(path.join(state, file)) ? readFileSync(path.join(state, file)).toString('latin1') : '';
      expect([KEY, ...CERT_LINES].filter((secret) => bytes.includes(secret))).toEqual([]);
    }
  });

  it('shows control characters of a hostile definition name and step output as escapes', () => {
    const state = temp('hostile');
    const dir = project({
      'evil.yaml': pipeline('"evil\\e[31m\\a"', 'deploy', "printf 'bell\\a clear\\033[2J cr\\rfake\\n'", 'x'),
    });
    expect(fire(dir, state, 'deploy').code).toBe(0);
    const runs = trig(['runs'], { cwd: dir, env: env(state) });
    expect(runs.stdout).not.toMatch(/[\u0007\u001b]/);
    expect(masked(runs.stdout)[1]).toMatch(
      /^[0-9a-f]{12} \| succeeded \| evil\\u001b\[31m\\u0007 \| deploy \| <time> \| <duration> \| exit 0$/,
    );
    const id = runs.stdout.split('\n')[1]!.slice(0, 12);
    const logs = trig(['logs', id], { env: env(state) });
    expect(masked(logs.stdout)).toEqual([
      '[evil\\u001b[31m\\u0007/x] bell\\u0007 clear\\u001b[2J cr\\u000dfake',
      '[evil\\u001b[31m\\u0007] succeeded in <duration>',
    ]);
    const history = trig(['history'], { cwd: dir, env: env(state) });
    expect(history.stdout).not.toMatch(/[\u0007\u001b]/);
    expect(history.stdout).toContain('  evil\\u001b[31m\\u0007: matched on: deploy → run');
  });

  it("keeps each run's last 1 MiB of output and says how much earlier output it dropped", () => {
    const state = temp('cap');
    const dir = project({
      // 40,000 lines of 31 characters: 32 bytes each as stored, 1,280,000 bytes in all.
      'big.yaml': pipeline('big', 'deploy', `seq 1 40000 | awk '{ printf "%06d-abcdefghijklmnopqrstuvwx\\n", $1 }'`, 'print'),
    });
    expect(fire(dir, state, 'deploy', ['--quiet']).code).toBe(0);
    const id = runIds(state).big!;
    // The log is larger than spawnSync's default buffer.
    const run = (args: string[]) =>
      spawnSync(process.execPath, [TRIG, ...args], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR, TRIG_STATE_DIR: state },
      });
    const lines = run(['logs', id]).stdout.trimEnd().split('\n');
    const dropped = /^… (\d+) bytes of earlier output not kept \(the store keeps each run's last 1 MiB\)$/.exec(lines[0]!);
    expect(dropped).not.toBeNull();
    const first = /^\[big\/print\] (\d{6})-abcdefghijklmnopqrstuvwx$/.exec(lines[1]!);
    expect(first).not.toBeNull();
    // Whole lines were dropped from the start: exactly those before the first one shown.
    expect(Number(dropped![1])).toBe((Number(first![1]) - 1) * 32);
    expect(lines.at(-2)).toBe('[big/print] 040000-abcdefghijklmnopqrstuvwx');
    expect(lines.at(-1)).toMatch(/^\[big\] succeeded in /);
    expect(lines.length - 2).toBe(40000 - Number(first![1]) + 1);
    const kept = lines.slice(1).reduce((sum, line) => sum + Buffer.byteLength(line.replace(/^\[big(\/print)?\] /, '')) + 1, 0);
    expect(kept).toBeLessThanOrEqual(1024 * 1024);
    expect(kept + 32).toBeGreaterThan(1024 * 1024);
    // seq orders the stored lines; a flood capped before it reached the store is not numbered.
    const json = JSON.parse(run(['logs', id, '--json']).stdout) as { droppedBytes: number; lines: { text: string }[] };
    expect([json.droppedBytes, json.lines[0]!.text]).toEqual([Number(dropped![1]), `${first![1]}-abcdefghijklmnopqrstuvwx`]);
  });

  it('bounds the events it keeps automatically (TRIG_KEEP_EVENTS lowers the bound of 10,000 for this test)', () => {
    const state = temp('bound');
    const dir = project({ 'b.yaml': pipeline('bounded', 'rollback', 'echo ran') });
    for (let i = 1; i <= 7; i++) expect(fire(dir, state, 'rollback', ['--delivery-id', `d-${i}`], { TRIG_KEEP_EVENTS: '3' }).code).toBe(0);
    // Checked every 3 events: after the 6th, the newest 3 were kept; the 7th came after.
    const history = JSON.parse(trig(['history', '--all', '--json', '--limit', '100'], { env: env(state) }).stdout) as {
      events: { deliveryKey: string }[];
    };
    expect(history.events.map((e) => e.deliveryKey)).toEqual(['d-7', 'd-6', 'd-5', 'd-4']);
    expect(
      trig(['runs', '--all'], { env: env(state) })
        .stdout.trimEnd()
        .split('\n'),
    ).toHaveLength(5);
    const bad = fire(dir, state, 'rollback', [], { TRIG_KEEP_EVENTS: 'many' });
    expect([bad.code, bad.stderr]).toEqual([2, 'trig: TRIG_KEEP_EVENTS "many": expected a positive whole number\n']);
  });
});
