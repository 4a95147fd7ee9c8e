import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ownerAlive, thisProcess } from '../../src/fire/record.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { StorePlaceError } from '../../src/store/place.js';
import { runIdOf } from '../../src/store/ids.js';
import { openSqliteStore, PRUNABLE_BEFORE, PRUNABLE_UP_TO } from '../../src/store/sqlite.js';
import { ACTIVE_STATUSES, LOG_LIMIT_BYTES, type NewEvent, type Owner, type Store } from '../../src/store/store.js';

// The guarantees of src/store/store.ts, held by the SQLite adapter against a real database
// file in a temporary state folder.

const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

function freshDir(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'trig-store-unit-')), 'state');
}

function open(dir = freshDir()): Store {
  const store = openSqliteStore(dir);
  opened.push(store);
  return store;
}

const OWNER: Owner = thisProcess();

function event(overrides: Partial<NewEvent> = {}): NewEvent {
  return { name: 'push', source: 'cli', at: new Date('2026-12-01T10:00:00Z'), places: ['/defs'], payload: {}, ...overrides };
}

describe('admitEvent', () => {
  it('admits a (source, delivery key) once, returning the first event for every later try', async () => {
    const store = open();
    const first = await store.admitEvent(event({ deliveryKey: 'k1' }));
    expect(first.duplicate).toBe(false);
    const again = await store.admitEvent(event({ deliveryKey: 'k1', name: 'other' }));
    expect(again).toEqual({ duplicate: true, eventId: first.eventId });
    expect((await store.listEvents({})).map((e) => e.id)).toEqual([first.eventId]);
  });

  it('keeps the same key of different sources apart, and never deduplicates events without a key', async () => {
    const store = open();
    const cli = await store.admitEvent(event({ deliveryKey: 'main abc' }));
    const hook = await store.admitEvent(event({ source: 'hook', deliveryKey: 'main abc' }));
    const plain1 = await store.admitEvent(event());
    const plain2 = await store.admitEvent(event());
    expect([cli.duplicate, hook.duplicate, plain1.duplicate, plain2.duplicate]).toEqual([false, false, false, false]);
    expect(new Set([cli.eventId, hook.eventId, plain1.eventId, plain2.eventId]).size).toBe(4);
    expect((await store.admitEvent(event({ source: 'hook', deliveryKey: 'main abc' }))).eventId).toBe(hook.eventId);
  });

  it('holds across two connections to the same file (as two trig processes)', async () => {
    const dir = freshDir();
    const a = open(dir);
    const b = open(dir);
    const first = await a.admitEvent(event({ deliveryKey: 'shared' }));
    expect(await b.admitEvent(event({ deliveryKey: 'shared' }))).toEqual({ duplicate: true, eventId: first.eventId });
  });
});

describe('admitEvents (group commit)', () => {
  it('admits each event as admitEvent would, in order: a key stored before or repeated in the list is a duplicate of its first', async () => {
    const store = open();
    const before = await store.admitEvent(event({ source: 'http', deliveryKey: 'old' }));
    const admitted = await store.admitEvents([
      event({ source: 'http', deliveryKey: 'a' }),
      event({ source: 'http', deliveryKey: 'old' }),
      event({ source: 'http', deliveryKey: 'b' }),
      event({ source: 'http', deliveryKey: 'a' }),
    ]);
    expect(admitted.map((a) => a.duplicate)).toEqual([false, true, false, true]);
    expect(admitted[1]!.eventId).toBe(before.eventId);
    expect(admitted[3]!.eventId).toBe(admitted[0]!.eventId);
    expect(admitted[0]).toEqual({ duplicate: false, eventId: admitted[0]!.eventId, runs: [] });
    // Admitted without a dispatch: listed for the receiver, oldest first (guarantee 7).
    expect((await store.listUndispatched({ source: 'http' })).map((e) => e.deliveryKey)).toEqual(['old', 'a', 'b']);
  });

  it('stores all of them or none', async () => {
    const store = open();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const both = [event({ source: 'http', deliveryKey: 'fine' }), event({ source: 'http', deliveryKey: 'bad', payload: circular })];
    await expect(Promise.resolve().then(() => store.admitEvents(both))).rejects.toThrow(/circular/i);
    expect(await store.listEvents({})).toEqual([]);
    expect((await store.admitEvents([event({ source: 'http', deliveryKey: 'fine' })]))[0]!.duplicate).toBe(false);
  });
});

describe('dispatchEvent', () => {
  it('adds a run key once: the second dispatch returns the run with its status, added false', async () => {
    const store = open();
    const { eventId } = await store.admitEvent(event());
    const runs = [{ key: `${eventId} deploy`, file: '/defs/a.yaml', definition: 'deploy' }];
    const first = await store.dispatchEvent(eventId, [], runs, OWNER);
    expect(first).toEqual([{ id: runIdOf(`${eventId} deploy`), added: true }]);
    expect(await store.claimRun(first[0]!.id, OWNER)).toBe('run');
    const second = await store.dispatchEvent(eventId, [], runs, OWNER);
    expect(second).toEqual([{ id: first[0]!.id, added: false, status: 'running' }]);
    expect((await store.listRuns({})).map((r) => r.id)).toEqual([first[0]!.id]);
  });
});

describe('appendLog', () => {
  it('keeps the last 1 MiB of a run, dropping whole lines from the oldest, and counts what it dropped', async () => {
    const store = open();
    const { eventId } = await store.admitEvent(event());
    const [{ id }] = (await store.dispatchEvent(eventId, [], [{ key: 'k', file: '/f', definition: 'd' }], OWNER)) as unknown as [
      { id: string },
    ];
    const big = (c: string) => c.repeat(400 * 1024);
    await store.appendLog(id, [{ step: 's', text: big('a') }]);
    await store.appendLog(id, [
      { step: 's', text: big('b') },
      { step: 's', text: big('c') },
    ]);
    const lineBytes = 400 * 1024 + 1;
    const log = await store.readLog(id);
    expect(log.map((l) => [l.seq, l.text[0], l.text.length])).toEqual([
      [2, 'b', 400 * 1024],
      [3, 'c', 400 * 1024],
    ]);
    let run = await store.findRun(id);
    expect('found' in run && [run.found.logBytes, run.found.logDroppedBytes]).toEqual([2 * lineBytes, lineBytes]);
    // Bytes the caller dropped before the store are added to the count; a line over the cap
    // on its own pushes out everything before it.
    await store.appendLog(id, [{ step: null, text: 'x'.repeat(LOG_LIMIT_BYTES - 1) }], 7);
    run = await store.findRun(id);
    expect('found' in run && [run.found.logBytes, run.found.logDroppedBytes]).toEqual([LOG_LIMIT_BYTES, 3 * lineBytes + 7]);
    expect((await store.readLog(id)).map((l) => l.seq)).toEqual([4]);
  });
});

describe('prune', () => {
  it('deletes events beyond the newest `keep` whose runs are over, keeping those with a queued or running run, and those not dispatched yet', async () => {
    const store = open();
    const ids: string[] = [];
    for (const [i, status] of (['queued', 'running', 'done', 'none', 'undispatched'] as const).entries()) {
      const { eventId } = await store.admitEvent(event({ at: new Date(Date.UTC(2026, 11, 1, 10, i)) }));
      ids.push(eventId);
      if (status === 'undispatched') continue;
      const runs = status === 'none' ? [] : [{ key: eventId, file: '/f', definition: 'd' }];
      const [added] = (await store.dispatchEvent(eventId, [], runs, OWNER)) as unknown as [{ id: string }?];
      if (status === 'none') continue;
      if (status !== 'queued') expect(await store.claimRun(added!.id, OWNER)).toBe('run');
      if (status === 'done') await store.finishRun(added!.id, { status: 'succeeded', exitCode: 0, steps: [] });
    }
    expect(await store.prune({ keep: 0 })).toEqual({ events: 2, runs: 1 });
    // An acknowledged delivery not decided yet (guarantee 7) is kept, however old.
    expect((await store.listEvents({})).map((e) => e.id).sort()).toEqual([ids[0], ids[1], ids[4]].sort());
    expect((await store.listUndispatched({ source: 'cli' })).map((e) => e.id)).toEqual([ids[4]]);
    expect((await store.listRuns({})).map((r) => r.status).sort()).toEqual(['queued', 'running']);
  });

  it('deletes by date, and by count keeping the newest', async () => {
    const store = open();
    const decided = { decisions: [], runs: [], owner: OWNER };
    for (let i = 0; i < 5; i++) await store.admitEvent(event({ deliveryKey: `d${i}`, at: new Date(Date.UTC(2026, 11, 1 + i)) }), decided);
    expect(await store.prune({ before: new Date(Date.UTC(2026, 11, 2)) })).toEqual({ events: 1, runs: 0 });
    expect(await store.prune({ keep: 2 })).toEqual({ events: 2, runs: 0 });
    expect((await store.listEvents({})).map((e) => e.deliveryKey)).toEqual(['d4', 'd3']);
  });

  it('finds what it may delete through the index of dispatched events, never reading a backlog of undispatched ones', () => {
    const dir = freshDir();
    open(dir).close();
    const raw = new Database(path.join(dir, 'trig.db'), { readonly: true });
    try {
      const plan = (sql: string, ...params: unknown[]) =>
        (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params, ...ACTIVE_STATUSES) as { detail: string }[]).map((row) => row.detail);
      for (const [sql, params] of [
        [PRUNABLE_UP_TO, [0, 0]],
        [PRUNABLE_BEFORE, [0]],
      ] as const) {
        const [events, ...rest] = plan(sql, ...params);
        expect(events).toMatch(/^SEARCH events USING INDEX events_dispatched_by_time \(received_at[<>=]/);
        expect(rest).toEqual(['CORRELATED SCALAR SUBQUERY 1', 'SEARCH runs USING INDEX runs_by_event (event_id=?)']);
      }
    } finally {
      raw.close();
    }
  });

  it('keeps the automatic bound from removing deliveries admitted but not dispatched yet', async () => {
    const store = openSqliteStore(freshDir(), { keepEvents: 2 });
    opened.push(store);
    for (let i = 0; i < 6; i++) await store.admitEvent(event({ deliveryKey: `u${i}` }));
    expect((await store.listUndispatched({ source: 'cli' })).map((e) => e.deliveryKey)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
  });
});

describe('reapLost', () => {
  it('marks lost the queued and running runs of a dead owner of this host, with their process groups, and only those', async () => {
    const store = open();
    const { eventId } = await store.admitEvent(event());
    const dead: Owner = { host: os.hostname(), pid: 999_999_999, startedAt: '1' };
    const elsewhere: Owner = { host: `${os.hostname()}-other`, pid: 999_999_999, startedAt: '1' };
    const added = await store.dispatchEvent(
      eventId,
      [],
      [
        { key: 'running', file: '/f', definition: 'running' },
        { key: 'queued', file: '/f', definition: 'queued' },
      ],
      dead,
    );
    const [running, queued] = added.map((a) => a.id) as [string, string];
    expect(await store.claimRun(running, dead)).toBe('run');
    await store.trackProcess(running, { pgid: 4242, startedAt: '77' }, true);
    await store.trackProcess(running, { pgid: 4343, startedAt: '78' }, true);
    await store.trackProcess(running, { pgid: 4343, startedAt: '' }, false);
    const [mine] = (await store.dispatchEvent(eventId, [], [{ key: 'mine', file: '/f', definition: 'mine' }], OWNER)).map((a) => a.id);
    const [remote] = (await store.dispatchEvent(eventId, [], [{ key: 'remote', file: '/f', definition: 'remote' }], elsewhere)).map(
      (a) => a.id,
    );

    const reaped = await store.reapLost(ownerAlive);
    expect(reaped.sort((a, b) => a.runId.localeCompare(b.runId))).toEqual(
      [
        { runId: running, groups: [{ pgid: 4242, startedAt: '77' }] },
        { runId: queued, groups: [] },
      ].sort((a, b) => a.runId.localeCompare(b.runId)),
    );
    const status = async (id: string) => {
      const found = await store.findRun(id);
      return 'found' in found ? [found.found.status, found.found.reason] : found.missing;
    };
    expect(await status(running)).toEqual(['lost', 'the trig process that ran it (pid 999999999) died']);
    expect(await status(queued)).toEqual(['lost', 'the trig process that ran it (pid 999999999) died']);
    expect(await status(mine!)).toEqual(['queued', null]);
    // Another host's process cannot be checked from here: its runs are left to that host.
    expect(await status(remote!)).toEqual(['queued', null]);
    expect(await store.reapLost(ownerAlive)).toEqual([]);
  });

  it('takes a live pid that started at another time for a dead owner (the pid was reused)', () => {
    expect(ownerAlive(thisProcess())).toBe(true);
    expect(ownerAlive({ ...thisProcess(), startedAt: '1' })).toBe(false);
    expect(ownerAlive({ host: os.hostname(), pid: 999_999_999, startedAt: '' })).toBe(false);
  });
});

describe('findRun and findEvent', () => {
  it('find by a unique prefix in either case, and say when a prefix is ambiguous, missing or not hex', async () => {
    const store = open();
    await store.admitEvent(event({ id: 'abc000000001' }));
    await store.admitEvent(event({ id: 'abc000000002' }));
    await store.admitEvent(event({ id: 'a0c000000003' }));
    const found = await store.findEvent('ABC000000001');
    expect('found' in found && found.found.id).toBe('abc000000001');
    expect(await store.findEvent('abc')).toEqual({
      missing: 'abc is the start of several events (abc000000001, abc000000002); give more of it',
    });
    expect(await store.findEvent('fff')).toEqual({ missing: 'no event fff' });
    // LIKE's wildcards are not hex digits: they never match everything.
    for (const input of ['%', '_', 'a%', 'a_c', '', 'abc\\', 'abc-1'])
      expect(await store.findEvent(input)).toEqual({ missing: `"${input}" is not an id (hex digits)` });
    expect(await store.findRun('%')).toEqual({ missing: '"%" is not an id (hex digits)' });
    expect(await store.findRun('0')).toEqual({ missing: 'no run 0' });
  });

  it('say which runs share a prefix, five at most', async () => {
    const store = open();
    const { eventId } = await store.admitEvent(event());
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await store.dispatchEvent(
      eventId,
      [],
      keys.map((key) => ({ key, file: '/f', definition: key })),
      OWNER,
    );
    // 40 ids over 16 first digits: some digit starts six or more of them, or at least two.
    const byDigit = new Map<string, string[]>();
    for (const id of keys.map(runIdOf)) byDigit.set(id[0]!, [...(byDigit.get(id[0]!) ?? []), id]);
    const [digit, ids] = [...byDigit].sort((a, b) => b[1].length - a[1].length)[0]!;
    const found = await store.findRun(digit);
    expect('missing' in found && found.missing).toMatch(new RegExp(`^${digit} is the start of several runs \\(`));
    const listed = ('missing' in found ? found.missing : '').replace(/^.*\((.*)\).*$/, '$1').split(', ');
    expect(listed.length).toBe(Math.min(ids.length, 5) + (ids.length > 5 ? 1 : 0));
    for (const id of listed.filter((x) => x !== '…')) expect(ids).toContain(id);
    const one = await store.findRun(ids[0]!);
    expect('found' in one && one.found.id).toBe(ids[0]);
  });
});

describe('the schema version', () => {
  it('refuses a database made by a newer trig, with a clear message, and leaves it as it was', () => {
    const dir = freshDir();
    open(dir).close();
    const file = path.join(dir, 'trig.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openSqliteStore(dir)).toThrow(StorePlaceError);
    expect(() => openSqliteStore(dir)).toThrow(
      `the store ${file} has schema version ${MIGRATIONS.length + 1}, newer than this trig knows (${MIGRATIONS.length}); upgrade trig`,
    );
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    after.close();
  });
});

describe('listUndispatched (guarantee 7)', () => {
  it('lists the events of a source admitted without a dispatch, oldest first, until they are dispatched; a second dispatch adds no run', async () => {
    const dir = freshDir();
    const store = open(dir);
    const a = await store.admitEvent(event({ source: 'http', deliveryKey: 'a' }));
    const b = await store.admitEvent(event({ source: 'http', deliveryKey: 'b' }));
    await store.admitEvent(event({ source: 'cli', deliveryKey: 'c' }));
    await store.admitEvent(event({ source: 'http', deliveryKey: 'd' }), { decisions: [], runs: [], owner: OWNER });
    expect((await store.listUndispatched({ source: 'http' })).map((e) => e.deliveryKey)).toEqual(['a', 'b']);
    expect((await store.listUndispatched({ source: 'http', limit: 1 })).map((e) => e.id)).toEqual([a.eventId]);

    const run = { key: 'http\ndelivery a\nbuild', file: '/defs/build.yaml', definition: 'build' };
    const decisions = [{ file: '/defs/build.yaml', definition: 'build', matched: true, reason: 'push' }];
    expect(await store.dispatchEvent(a.eventId, decisions, [run], OWNER)).toEqual([{ id: runIdOf(run.key), added: true }]);
    // Another connection (a receiver restarted meanwhile) dispatches the same event again.
    const other = open(dir);
    expect(await other.dispatchEvent(a.eventId, decisions, [run], OWNER)).toEqual([
      { id: runIdOf(run.key), added: false, status: 'queued' },
    ]);
    expect((await other.listUndispatched({ source: 'http' })).map((e) => e.id)).toEqual([b.eventId]);
    expect((await store.listRuns({})).map((r) => r.id)).toEqual([runIdOf(run.key)]);
  });

  it("lists past a seq (the run thread's cursor) and counts what it would list", async () => {
    const store = open();
    for (const key of ['a', 'b', 'c', 'd']) await store.admitEvent(event({ source: 'http', deliveryKey: key }));
    const all = await store.listUndispatched({ source: 'http' });
    expect(all.map((e) => e.deliveryKey)).toEqual(['a', 'b', 'c', 'd']);
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((x, y) => x - y));
    expect((await store.listUndispatched({ source: 'http', after: all[1]!.seq })).map((e) => e.deliveryKey)).toEqual(['c', 'd']);
    expect((await store.listUndispatched({ source: 'http', after: all[1]!.seq, limit: 1 })).map((e) => e.deliveryKey)).toEqual(['c']);
    expect(await store.countUndispatched('http')).toBe(4);
    await store.dispatchEvent(all[0]!.id, [], [], OWNER);
    expect(await store.countUndispatched('http')).toBe(3);
    expect(await store.countUndispatched('cli')).toBe(0);
  });

  it('keeps a payload given as JSON text as it is, and reads it back as the payload', async () => {
    const dir = freshDir();
    const store = open(dir);
    const text = '{ "ref" : "refs/heads/main",\n  "n": [1, 2] }';
    const { eventId } = await store.admitEvent(event({ source: 'http', deliveryKey: 'p', payload: JSON.parse(text), payloadJson: text }));
    const [stored] = await store.listUndispatched({ source: 'http' });
    expect(stored!.id).toBe(eventId);
    expect(stored!.payload).toEqual({ ref: 'refs/heads/main', n: [1, 2] });
    const raw = new Database(path.join(dir, 'trig.db'), { readonly: true });
    expect(raw.prepare('SELECT payload FROM events WHERE id = ?').pluck().get(eventId)).toBe(text);
    raw.close();
  });
});
