// trig serve under pressure and across its own death: a flood past --queue, SIGTERM while a
// run runs, kill -9 while a run runs and a restart. Each run appends its delivery's mark to
// started.log, waits for a file named `go`, then appends it to done.log: exactly-once is
// read from those files. Every wait polls up to a deadline; nothing measures time.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { shellDefinition } from '../helpers/definition.js';
import { githubExample, githubHeaders, killServers, lines, SECRETS_ENV, send, startServe, until } from '../helpers/serve.js';
import { trig } from '../helpers/trig.js';

afterEach(() => killServers());

/** A workspace with one push definition that waits for `go`, and a store of its own. */
function workspace(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-serve-life-'));
  mkdirSync(path.join(dir, '.harness'));
  mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  writeFileSync(
    path.join(dir, '.harness', 'gate.yaml'),
    shellDefinition(
      'gate',
      ['- push'],
      ['echo "<+trigger.commitSha>" >> started.log', 'while [ ! -f go ]; do sleep 0.05; done', 'echo "<+trigger.commitSha>" >> done.log'],
    ),
  );
  return { dir, env: { ...SECRETS_ENV, TRIG_STATE_DIR: path.join(dir, 'state') } };
}

const push = (mark: string) => {
  const payload = githubExample('push');
  payload.after = mark;
  return JSON.stringify(payload);
};

async function deliver(url: string, mark: string) {
  const body = push(mark);
  return send(`${url}/github`, { headers: githubHeaders('push', `id-${mark}`, body), body });
}

const count = (all: string[], mark: string) => all.filter((l) => l === mark).length;

function runs(env: NodeJS.ProcessEnv): { status: string; reason: string | null; eventId: string; definition: string }[] {
  return JSON.parse(trig(['runs', '--all', '--json', '--limit', '100'], { env }).stdout).runs;
}

describe('trig serve lifecycle', () => {
  it('a flood past --queue gets 503 with Retry-After; every acknowledged delivery runs exactly once, and the refused ones run when sent again', async () => {
    const { dir, env } = workspace();
    const server = await startServe(['--concurrency', '1', '--queue', '3'], { cwd: dir, env });
    const marks = Array.from({ length: 10 }, (_, i) => `flood${i}`);
    const replies = [];
    for (const mark of marks) replies.push({ mark, reply: await deliver(server.url, mark) });
    const acked = replies.filter((r) => r.reply.status === 202).map((r) => r.mark);
    const refused = replies.filter((r) => r.reply.status === 503);
    expect(acked.length + refused.length).toBe(10);
    expect(acked.length).toBeGreaterThanOrEqual(3);
    expect(acked.length).toBeLessThanOrEqual(4);
    for (const { reply } of refused) {
      expect(reply.headers.get('retry-after')).toBe('5');
      expect(reply.body).toEqual({ error: 'the queue is full; retry later' });
    }

    writeFileSync(path.join(dir, 'go'), '');
    await until('the acknowledged runs', () => acked.every((m) => lines(path.join(dir, 'done.log')).includes(m)));
    // Sent again one at a time, each once the one before has run: with --queue 3 a burst would be refused again.
    for (const { mark } of refused) {
      expect((await deliver(server.url, mark)).status).toBe(202);
      await until(`the run of ${mark}`, () => lines(path.join(dir, 'done.log')).includes(mark));
    }
    await until('every run', () => marks.every((m) => lines(path.join(dir, 'done.log')).includes(m)));
    const done = lines(path.join(dir, 'done.log'));
    for (const mark of marks) expect(count(done, mark)).toBe(1);
    expect(done).toHaveLength(10);
  });

  it('deliveries sent at once (stored together, one commit): each id is acknowledged once, a copy sent alongside is a duplicate, each runs once', async () => {
    const { dir, env } = workspace();
    writeFileSync(path.join(dir, 'go'), '');
    const server = await startServe([], { cwd: dir, env });
    const marks = Array.from({ length: 20 }, (_, i) => `burst${i}`);
    const copies = marks.slice(0, 5);
    const replies = await Promise.all([...marks, ...copies].map(async (mark) => ({ mark, reply: await deliver(server.url, mark) })));
    for (const mark of marks) {
      const answers = replies.filter((r) => r.mark === mark).map((r) => r.reply);
      const acked = answers.filter((a) => a.status === 202);
      expect(acked).toHaveLength(1);
      expect(acked[0]!.body).toMatchObject({ delivery: `id-${mark}`, status: 'queued' });
      for (const other of answers.filter((a) => a.status !== 202)) {
        expect(other.status).toBe(200);
        expect(other.body).toEqual({ duplicate: true, event: acked[0]!.body.event });
      }
    }
    await until('every run', () => marks.every((m) => lines(path.join(dir, 'done.log')).includes(m)));
    await until('every run recorded', () => runs(env).filter((r) => r.status === 'succeeded').length === marks.length);
    const done = lines(path.join(dir, 'done.log'));
    for (const mark of marks) expect(count(done, mark)).toBe(1);
    expect(runs(env)).toHaveLength(marks.length);
  });

  it('SIGTERM: new deliveries get 503, the running run finishes, waiting deliveries stay stored and the next trig serve runs them', async () => {
    const { dir, env } = workspace();
    const first = await startServe(['--concurrency', '1', '--grace', '5m'], { cwd: dir, env });
    for (const mark of ['t1', 't2', 't3']) expect((await deliver(first.url, mark)).status).toBe(202);
    await until('the first run to start', () => lines(path.join(dir, 'started.log')).includes('t1'));
    first.child.kill('SIGTERM');
    await until('the stop notice', () => first.stderr().includes('SIGTERM: no more deliveries'));
    const refused = await deliver(first.url, 't4');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    writeFileSync(path.join(dir, 'go'), '');
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain('trig: 2 acknowledged deliveries left in the store for the next trig serve');
    expect(lines(path.join(dir, 'done.log'))).toEqual(['t1']);

    const second = await startServe(['--concurrency', '1'], { cwd: dir, env });
    expect(second.stderr()).toContain('trig: resuming 2 acknowledged deliveries not run before');
    await until('the resumed runs', () => lines(path.join(dir, 'done.log')).length === 3);
    expect(lines(path.join(dir, 'done.log'))).toEqual(['t1', 't2', 't3']);
    expect(lines(path.join(dir, 'started.log'))).toEqual(['t1', 't2', 't3']);
    // A redelivery after the restart is still the same delivery.
    expect(await deliver(second.url, 't2')).toMatchObject({ status: 200, body: { duplicate: true } });
  });

  it('SIGTERM: a run still going when the grace period ends is stopped as trig fire stops it', async () => {
    const { dir, env } = workspace();
    const server = await startServe(['--grace', '1s'], { cwd: dir, env });
    expect((await deliver(server.url, 'g1')).status).toBe(202);
    await until('the run to start', () => lines(path.join(dir, 'started.log')).includes('g1'));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(143);
    expect(server.stderr()).toContain('trig: the grace period is over: stopping the runs');
    expect(lines(path.join(dir, 'done.log'))).toEqual([]);
    // Recorded as trig fire records a run a signal stopped.
    expect(runs(env).map((r) => [r.status, r.reason])).toEqual([['failed', expect.stringContaining('trig received SIGTERM')]]);
  });

  it('kill -9 mid-run, then a restart: every acknowledged delivery that had not started runs exactly once; the one running is lost, not run again', async () => {
    const { dir, env } = workspace();
    const first = await startServe(['--concurrency', '1'], { cwd: dir, env });
    const marks = ['k1', 'k2', 'k3', 'k4', 'k5'];
    for (const mark of marks) expect((await deliver(first.url, mark)).status).toBe(202);
    await until('the first run to start', () => lines(path.join(dir, 'started.log')).includes('k1'));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startServe(['--concurrency', '2'], { cwd: dir, env });
    expect(second.stderr()).toContain('trig: resuming 4 acknowledged deliveries not run before');
    // The killed server's run was marked lost (and what it left running stopped) at start.
    const lost = runs(env).filter((r) => r.status === 'lost');
    expect(lost).toHaveLength(1);
    writeFileSync(path.join(dir, 'go'), '');
    await until('the resumed runs', () => ['k2', 'k3', 'k4', 'k5'].every((m) => lines(path.join(dir, 'done.log')).includes(m)));
    await until('the runs to be recorded', () => runs(env).filter((r) => r.status === 'succeeded').length === 4);
    const started = lines(path.join(dir, 'started.log'));
    const done = lines(path.join(dir, 'done.log'));
    for (const mark of marks) expect(count(started, mark)).toBe(1);
    expect(count(done, 'k1')).toBe(0);
    expect(done.sort()).toEqual(['k2', 'k3', 'k4', 'k5']);
    expect(await deliver(second.url, 'k1')).toMatchObject({ status: 200, body: { duplicate: true } });
  });

  it('a store another process keeps locked past the 10 s busy timeout: 503 with Retry-After, nothing stored; sent again, it runs once', async () => {
    const { dir, env } = workspace();
    const server = await startServe([], { cwd: dir, env });
    writeFileSync(path.join(dir, 'go'), '');
    const holder = new Database(path.join(dir, 'state', 'trig.db'));
    holder.exec('BEGIN IMMEDIATE');
    const refused = await deliver(server.url, 'b1').finally(() => holder.exec('ROLLBACK'));
    holder.close();
    expect([refused.status, refused.headers.get('retry-after'), refused.body]).toEqual([
      503,
      '5',
      { error: 'the store is busy; retry later' },
    ]);
    expect(server.stderr()).toContain('stayed locked by another process for more than 10 s; nothing was written: try again');
    expect((await deliver(server.url, 'b1')).status).toBe(202);
    await until('the run', () => lines(path.join(dir, 'done.log')).includes('b1'));
    expect(lines(path.join(dir, 'started.log'))).toEqual(['b1']);
  }, 30_000);

  it("--nice lowers the runs' CPU priority (the steps' nice value) and not the receiving thread's; out of range is refused", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-serve-nice-'));
    mkdirSync(path.join(dir, '.harness'));
    mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
    // Field 19 of /proc/<pid>/stat is the nice value (comm, field 2, cannot hold ") " here: it is sh).
    writeFileSync(
      path.join(dir, '.harness', 'nice.yaml'),
      shellDefinition('nice', ['- push'], ['sed "s/.*) //" /proc/$$/stat | cut -d" " -f17 >> nice.log']),
    );
    const env = { ...SECRETS_ENV, TRIG_STATE_DIR: path.join(dir, 'state') };
    const own = getPriority();
    const niceOf = (pid: number) =>
      Number(
        readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')[16],
      );
    for (const [flag, expected] of [
      [[], Math.min(19, own + 5)],
      [['--nice', '7'], Math.min(19, own + 7)],
      [['--nice', '0'], own],
    ] as const) {
      const server = await startServe([...flag], { cwd: dir, env });
      const mark = `nice${expected}-${flag.length}`;
      expect((await deliver(server.url, mark)).status).toBe(202);
      const seen = await until('the run', () => lines(path.join(dir, 'nice.log'))[0]);
      expect(Number(seen)).toBe(expected);
      expect(niceOf(server.child.pid!)).toBe(own);
      server.child.kill('SIGKILL');
      await server.exited;
      writeFileSync(path.join(dir, 'nice.log'), '');
    }
    const refused = trig(['serve', '--nice', '20'], { cwd: dir, env });
    expect([refused.code, refused.stderr]).toEqual([2, 'trig: --nice "20": expected a whole number from 0 to 19\n']);
  });
});
