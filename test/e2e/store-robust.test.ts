import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { CACHE_DIR, ROOT, TRIG, trig, type TrigResult } from '../helpers/trig.js';

// The store's guarantees under stress, played with real trig processes (the built bin/trig)
// against a real state folder: many processes at once on a store that does not exist yet,
// a trig killed with SIGKILL in the middle of a run, and a state folder someone tampered with.

const ONCE = `version: 1
pipeline:
  name: once
  on: deploy
  stages:
    - name: only
      steps:
        - run: echo "$TRIG_RUN_ID" >> ran.txt
`;

const BACKGROUND = `version: 1
pipeline:
  name: background
  on: rollback
  stages:
    - name: only
      steps:
        - run: |
            sleep 300 & echo $! > first.pid
            sleep 300 & echo $! > second.pid
            echo $$ > leader.pid
            wait
`;

function temp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `trig-store-robust-${prefix}-`));
}

/** A folder of definitions and a work folder beside it. */
function project(): { defs: string; work: string } {
  const base = temp('project');
  const defs = path.join(base, 'defs');
  const work = path.join(base, 'work');
  mkdirSync(defs);
  mkdirSync(work);
  writeFileSync(path.join(defs, 'once.yaml'), ONCE);
  writeFileSync(path.join(defs, 'background.yaml'), BACKGROUND);
  return { defs, work };
}

/** Starts bin/trig without waiting for it. */
function start(args: string[], stateDir: string) {
  return spawn(process.execPath, [TRIG, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TRIG_CACHE_DIR: CACHE_DIR, TRIG_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs bin/trig to its end, asynchronously (so that many can run at once). */
function run(args: string[], stateDir: string): Promise<TrigResult> {
  const child = start(args, stateDir);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A live process (a zombie that init has not reaped yet is dead: it only holds its pid). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    if (existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForFile(file: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await delay(20);
  }
}

const mode = (file: string) => (lstatSync(file).mode & 0o777).toString(8);

describe('the store under concurrent trig processes', () => {
  it('runs a delivery once when 16 trig fire --delivery-id of it start together on a state folder with no store yet', async () => {
    const { defs, work } = project();
    const stateDir = path.join(temp('state'), 'state');
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        run(['fire', '--defs', defs, '--event', 'deploy', '--delivery-id', 'same', '--workdir', work], stateDir),
      ),
    );
    expect(results.map((r) => [r.code, r.stderr])).toEqual(Array(16).fill([0, '']));
    // The one run appended one line (its run id); nothing else ran the step.
    const lines = readFileSync(path.join(work, 'ran.txt'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const duplicates = results.filter((r) => r.stdout.startsWith('duplicate delivery same: already handled as event '));
    expect(duplicates).toHaveLength(15);
    const ran = results.filter((r) => !duplicates.includes(r));
    expect(ran).toHaveLength(1);
    expect(ran[0]!.stdout).toContain('[once] succeeded');
    // Every duplicate names the event that the one run belongs to.
    const store = openSqliteStore(stateDir);
    try {
      const events = await store.listEvents({});
      expect(events.map((e) => [e.source, e.deliveryKey, e.runs])).toEqual([['cli', 'same', [lines[0]]]]);
      for (const r of duplicates) expect(r.stdout.trim()).toBe(`duplicate delivery same: already handled as event ${events[0]!.id}`);
    } finally {
      store.close();
    }
  });

  it('never fails when 16 processes open a store that does not exist yet, and leaves no half-built file', async () => {
    const { defs, work } = project();
    const stateDir = path.join(temp('state'), 'state');
    // Each delivery is new and matches nothing: every process opens the store and writes to it.
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        run(['fire', '--defs', defs, '--event', 'push', '--delivery-id', `d${i}`, '--workdir', work], stateDir),
      ),
    );
    expect(results.map((r) => [r.code, r.stderr])).toEqual(Array(16).fill([0, '']));
    expect(readdirSync(stateDir).filter((f) => f !== 'trig.db-wal' && f !== 'trig.db-shm')).toEqual(['trig.db']);
    const store = openSqliteStore(stateDir);
    try {
      const keys = (await store.listEvents({})).map((e) => e.deliveryKey).sort();
      expect(keys).toEqual(Array.from({ length: 16 }, (_, i) => `d${i}`).sort());
    } finally {
      store.close();
    }
  });
});

describe('a store another process keeps locked', () => {
  it('makes trig fire exit 75 with one line after the 10 s busy timeout, running nothing; the same delivery runs once later', async () => {
    const { defs, work } = project();
    const stateDir = path.join(temp('state'), 'state');
    const args = ['fire', '--defs', defs, '--event', 'deploy', '--delivery-id', 'later', '--workdir', work];
    expect((await run(['fire', '--defs', defs, '--event', 'push', '--delivery-id', 'first'], stateDir)).code).toBe(0);
    const holder = new Database(path.join(stateDir, 'trig.db'));
    holder.exec('BEGIN IMMEDIATE');
    const refused = await run(args, stateDir).finally(() => holder.exec('ROLLBACK'));
    holder.close();
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      75,
      '',
      `trig: the store ${path.join(stateDir, 'trig.db')} stayed locked by another process for more than 10 s; nothing was written: try again\n`,
    ]);
    expect(existsSync(path.join(work, 'ran.txt'))).toBe(false);
    const retried = await run(args, stateDir);
    expect([retried.code, retried.stderr]).toEqual([0, '']);
    expect(readFileSync(path.join(work, 'ran.txt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  }, 30_000);
});

describe('a trig killed with SIGKILL', () => {
  it('leaves a run that the next trig marks lost, stopping the background processes of its steps', async () => {
    const { defs, work } = project();
    const stateDir = path.join(temp('state'), 'state');
    const victim = start(['fire', '--defs', defs, '--event', 'rollback', '--workdir', work], stateDir);
    const exited = new Promise((resolve) => victim.on('exit', resolve));
    await waitForFile(path.join(work, 'leader.pid'));
    const pids = ['leader', 'first', 'second'].map((name) => Number(readFileSync(path.join(work, `${name}.pid`), 'utf8')));
    // While the store is open, its WAL and shared-memory files are private too.
    expect([mode(stateDir), mode(path.join(stateDir, 'trig.db'))]).toEqual(['700', '600']);
    for (const file of ['trig.db-wal', 'trig.db-shm']) expect(mode(path.join(stateDir, file))).toBe('600');
    // trig records the step's group just after it spawns it; a loaded machine can let the
    // step write its pid files first, so the kill waits until the store has the group.
    const before = openSqliteStore(stateDir);
    let running: Awaited<ReturnType<typeof before.listRuns>>[number] | undefined;
    for (const until = Date.now() + 20_000; Date.now() < until; await delay(20)) {
      [running] = await before.listRuns({});
      if (running?.pgids.length) break;
    }
    before.close();
    expect([running!.definition, running!.status, running!.pid]).toEqual(['background', 'running', victim.pid]);
    expect(running!.pgids).toEqual([pids[0]]);
    victim.kill('SIGKILL');
    await exited;
    // Killed with no chance to clean up: its step's processes live on.
    expect(pids.map(alive)).toEqual([true, true, true]);

    // The next trig that opens the store (a fire that matches nothing, with a delivery id).
    const next = trig(['fire', '--defs', defs, '--event', 'push', '--delivery-id', 'next'], { env: { TRIG_STATE_DIR: stateDir } });
    expect([next.code, next.stderr]).toEqual([0, '']);
    expect(pids.map(alive)).toEqual([false, false, false]);
    const after = openSqliteStore(stateDir);
    try {
      const lost = await after.findRun(running!.id);
      expect('found' in lost && [lost.found.status, lost.found.reason, lost.found.pgids, lost.found.pid]).toEqual([
        'lost',
        `the trig process that ran it (pid ${victim.pid}) died`,
        [],
        null,
      ]);
    } finally {
      after.close();
    }
  });
});

describe('process groups left by a dead trig', () => {
  /** Field 22 of /proc/<pid>/stat: when the process started. */
  const startOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  };

  /** A run of a dead trig that recorded `group`; then the next trig opens the store. */
  async function reapWith(group: (pid: number) => string): Promise<{ pid: number; stillAlive: boolean }> {
    const { defs } = project();
    const stateDir = path.join(temp('state'), 'state');
    // A process group of its own, as a step's: its leader's pid is the group id.
    const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const pid = sleeper.pid!;
    try {
      const store = openSqliteStore(stateDir);
      const dead = { host: hostname(), pid: 999_999_999, startedAt: '1' };
      const admitted = await store.admitEvent(
        { name: 'push', source: 'cli', at: new Date(), places: [defs], payload: {} },
        { decisions: [], runs: [{ key: 'k', file: '/f', definition: 'd' }], owner: dead },
      );
      const runs = admitted.duplicate ? [] : admitted.runs;
      await store.claimRun(runs[0]!.id, dead);
      await store.trackProcess(runs[0]!.id, { pgid: pid, startedAt: group(pid) }, true);
      store.close();
      const next = trig(['fire', '--defs', defs, '--event', 'push', '--delivery-id', 'next'], { env: { TRIG_STATE_DIR: stateDir } });
      expect([next.code, next.stderr]).toEqual([0, '']);
      const after = openSqliteStore(stateDir);
      const lost = await after.findRun(runs[0]!.id);
      after.close();
      expect('found' in lost && lost.found.status).toBe('lost');
      await delay(200);
      return { pid, stillAlive: alive(pid) };
    } finally {
      if (alive(pid)) process.kill(-pid, 'SIGKILL');
    }
  }

  it('are stopped while their leader is the process the run started', async () => {
    expect(await reapWith((pid) => startOf(pid))).toEqual({ pid: expect.any(Number), stillAlive: false });
  });

  it('are left alone when their leader started at another time: the pid was reused by someone else', async () => {
    expect(await reapWith((pid) => String(Number(startOf(pid)) - 1))).toEqual({ pid: expect.any(Number), stillAlive: true });
  });

  it('are found by TRIG_RUN_ID when the trig died before it recorded them (killed just after the spawn)', async () => {
    const { defs } = project();
    const stateDir = path.join(temp('state'), 'state');
    const store = openSqliteStore(stateDir);
    const dead = { host: hostname(), pid: 999_999_999, startedAt: '1' };
    // A run of a dead trig, and one of a live one (this test's process).
    const living = { host: hostname(), pid: process.pid, startedAt: startOf(process.pid) };
    const [lostRun, otherRun] = await Promise.all(
      (
        [
          ['a', dead],
          ['b', living],
        ] as const
      ).map(async ([key, owner]) => {
        const admitted = await store.admitEvent(
          { name: 'push', source: 'cli', at: new Date(), places: [defs], payload: {} },
          { decisions: [], runs: [{ key, file: '/f', definition: 'd' }], owner },
        );
        const run = admitted.duplicate ? undefined : admitted.runs[0];
        await store.claimRun(run!.id, owner);
        return run;
      }),
    );
    store.close();
    // The step as trig spawned it (its own group, the run's id in its environment), and a
    // process of the live trig's run.
    const environ = (id: string) => ({ PATH: process.env.PATH, TRIG_RUN_ID: id });
    const step = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: environ(lostRun!.id) });
    const bystander = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: environ(otherRun!.id) });
    try {
      const next = trig(['fire', '--defs', defs, '--event', 'push', '--delivery-id', 'next'], { env: { TRIG_STATE_DIR: stateDir } });
      expect([next.code, next.stderr]).toEqual([0, '']);
      const after = openSqliteStore(stateDir);
      const lost = await after.findRun(lostRun!.id);
      after.close();
      expect('found' in lost && lost.found.status).toBe('lost');
      expect([alive(step.pid!), alive(bystander.pid!)]).toEqual([false, true]);
    } finally {
      for (const child of [step, bystander]) if (alive(child.pid!)) process.kill(child.pid!, 'SIGKILL');
    }
  });
});

// trig runs as root from cron and CI, and what the store says decides what runs: a place
// someone else could have written is refused, with one line, exit 2, and nothing touched.
describe('the state folder trust rule', () => {
  function attempt(stateDir: string): TrigResult {
    const { defs } = project();
    return trig(['fire', '--defs', defs, '--event', 'push', '--delivery-id', 'x'], { env: { TRIG_STATE_DIR: stateDir } });
  }

  /** The names, kinds, modes and sizes in a folder: what "nothing touched" compares. */
  function snapshot(dir: string): string[] {
    return readdirSync(dir)
      .sort()
      .map((name) => {
        const s = lstatSync(path.join(dir, name));
        return `${name} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs} ${s.isSymbolicLink() ? readlinkSync(path.join(dir, name)) : ''}`;
      });
  }

  function expectRefused(result: TrigResult, line: string): void {
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`trig: ${line}\n`);
  }

  /** A state folder with a store in it (made by a real fire). */
  function existingStore(): string {
    const stateDir = path.join(temp('state'), 'state');
    expect(attempt(stateDir).code).toBe(0);
    return stateDir;
  }

  it('creates a missing state folder 0700 and the database 0600', () => {
    const stateDir = path.join(temp('state'), 'state');
    expect(attempt(stateDir).code).toBe(0);
    expect([mode(stateDir), mode(path.join(stateDir, 'trig.db'))]).toEqual(['700', '600']);
  });

  it('refuses a state folder that is a symbolic link', () => {
    const real = existingStore();
    const link = path.join(temp('link'), 'state');
    symlinkSync(real, link);
    const before = snapshot(real);
    expectRefused(attempt(link), `the state folder ${link} is a symbolic link; trig does not follow it`);
    expect(snapshot(real)).toEqual(before);
  });

  it.each([
    ['group', 0o770, 'is writable by its group (mode 0770)'],
    ['others', 0o707, 'is writable by others (mode 0707)'],
  ])('refuses a state folder writable by %s', (_, folderMode, why) => {
    const stateDir = existingStore();
    chmodSync(stateDir, folderMode);
    const before = snapshot(stateDir);
    expectRefused(attempt(stateDir), `the state folder ${stateDir} ${why}; trig will not keep its store there`);
    expect(snapshot(stateDir)).toEqual(before);
  });

  it('refuses a fresh state folder writable by others without creating the store in it', () => {
    const stateDir = temp('open');
    chmodSync(stateDir, 0o777);
    expectRefused(attempt(stateDir), `the state folder ${stateDir} is writable by others (mode 0777); trig will not keep its store there`);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('refuses a state folder under a folder others can write that is not sticky, creating nothing', () => {
    const open = temp('open');
    chmodSync(open, 0o777);
    const stateDir = path.join(open, 'deep', 'state');
    expectRefused(
      attempt(stateDir),
      `the state folder ${stateDir} is under ${open}, which others than its owner can write (mode 0777, not sticky); trig will not keep its store there`,
    );
    expect(readdirSync(open)).toEqual([]);
  });

  it('accepts a state folder under a sticky folder others can write (as /tmp)', () => {
    const sticky = temp('sticky');
    chmodSync(sticky, 0o1777);
    const stateDir = path.join(sticky, 'state');
    expect(attempt(stateDir).code).toBe(0);
    expect(mode(stateDir)).toBe('700');
  });

  const isRoot = process.getuid?.() === 0;
  it.skipIf(!isRoot)(`refuses a state folder under a folder of another user${isRoot ? '' : ' (skipped: not running as root)'}`, () => {
    const theirs = temp('theirs');
    chownSync(theirs, 65534, 65534);
    const stateDir = path.join(theirs, 'state');
    expectRefused(
      attempt(stateDir),
      `the state folder ${stateDir} is under ${theirs}, which is owned by uid 65534, neither trig's user (uid 0) nor root; trig will not keep its store there`,
    );
    expect(readdirSync(theirs)).toEqual([]);
  });

  it.skipIf(!isRoot)(`refuses a state folder owned by another user${isRoot ? '' : ' (skipped: not running as root)'}`, () => {
    const stateDir = existingStore();
    chownSync(stateDir, 65534, 65534);
    const before = snapshot(stateDir);
    expectRefused(
      attempt(stateDir),
      `the state folder ${stateDir} is owned by uid 65534, not by uid 0 (trig's user); trig will not keep its store there`,
    );
    expect(snapshot(stateDir)).toEqual(before);
  });

  it.skipIf(!isRoot)(`refuses a database owned by another user${isRoot ? '' : ' (skipped: not running as root)'}`, () => {
    const stateDir = existingStore();
    const file = path.join(stateDir, 'trig.db');
    chownSync(file, 65534, 65534);
    const before = snapshot(stateDir);
    expectRefused(attempt(stateDir), `${file} is owned by uid 65534, not by uid 0 (trig's user); trig will not open it`);
    expect(snapshot(stateDir)).toEqual(before);
  });

  it.each(['trig.db', 'trig.db-wal', 'trig.db-shm'])('refuses a planted symbolic link at %s and writes nothing through it', (name) => {
    const stateDir = name === 'trig.db' ? path.join(temp('state'), 'state') : existingStore();
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const target = path.join(temp('target'), 'victim');
    writeFileSync(target, 'precious\n', { mode: 0o600 });
    symlinkSync(target, path.join(stateDir, name));
    const before = snapshot(stateDir);
    expectRefused(attempt(stateDir), `${path.join(stateDir, name)} is not a regular file; trig will not open it`);
    expect(snapshot(stateDir)).toEqual(before);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
  });

  it('refuses a dangling symbolic link at trig.db rather than creating its target', () => {
    const stateDir = path.join(temp('state'), 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const target = path.join(temp('target'), 'created-through-link');
    symlinkSync(target, path.join(stateDir, 'trig.db'));
    expectRefused(attempt(stateDir), `${path.join(stateDir, 'trig.db')} is not a regular file; trig will not open it`);
    expect(existsSync(target)).toBe(false);
  });

  it.each([
    ['644', 'is readable by others (mode 644)'],
    ['640', 'is readable by others (mode 640)'],
  ])('refuses a database file with mode %s', (octal, why) => {
    const fileMode = parseInt(octal, 8);
    const stateDir = existingStore();
    const file = path.join(stateDir, 'trig.db');
    chmodSync(file, fileMode);
    const before = snapshot(stateDir);
    expectRefused(attempt(stateDir), `${file} ${why}; trig will not open it`);
    expect(snapshot(stateDir)).toEqual(before);
    expect(statSync(file).mode & 0o777).toBe(fileMode);
  });
});
