import { mkdtempSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { NewRun, Owner, Store } from '../../src/store/store.js';

// The claim semantics of concurrency groups (store.ts, guarantee 3) against a real SQLite
// file. Each fire is its own connection to the file, as each trig process is.

const owner: Owner = { host: os.hostname(), pid: process.pid, startedAt: '' };

function freshStore(): { open: () => Store } {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-store-group-'));
  return { open: () => openSqliteStore(dir) };
}

let counter = 0;

/** Records an event that starts one run of `definition` in `group`; returns the run's id. */
async function arrive(store: Store, group: string | undefined, cancelInProgress = false, definition = 'deploy'): Promise<string> {
  const key = `key ${++counter}`;
  const run: NewRun = { key, file: '/defs/deploy.yaml', definition, ...(group ? { group: { name: group, cancelInProgress } } : {}) };
  const admitted = await store.admitEvent(
    { name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} },
    { decisions: [], runs: [run], owner },
  );
  if (admitted.duplicate) throw new Error('duplicate');
  return admitted.runs[0]!.id;
}

async function statusOf(store: Store, id: string): Promise<[string, string | null]> {
  const found = await store.findRun(id);
  if (!('found' in found)) throw new Error(found.missing);
  return [found.found.status, found.found.reason];
}

const succeeded = { status: 'succeeded' as const, exitCode: 0, steps: [] };

describe('concurrency groups in the store', () => {
  it('runs the first, holds the second, and lets a third supersede the second (GitHub: one running, one pending)', async () => {
    const place = freshStore();
    const [one, two, three] = [place.open(), place.open(), place.open()];
    const first = await arrive(one, 'g');
    expect(await one.claimRun(first, owner)).toBe('run');
    const second = await arrive(two, 'g');
    expect(await statusOf(two, second)).toEqual(['waiting', null]);
    expect(await two.claimRun(second, owner)).toBe('wait');
    const third = await arrive(three, 'g');
    expect(await statusOf(two, second)).toEqual(['cancelled', `superseded by run ${third}, newer in concurrency group "g"`]);
    expect(await two.claimRun(second, owner)).toBe('cancelled');
    expect(await three.claimRun(third, owner)).toBe('wait');
    // Without cancel-in-progress the running one is never asked to stop.
    expect(await one.cancelRequested([first])).toEqual([]);
    await one.finishRun(first, succeeded);
    expect(await three.claimRun(third, owner)).toBe('run');
    expect(await statusOf(three, third)).toEqual(['running', null]);
  });

  it('gives the group to the older of two runs that arrive while it is free, whichever claims first', async () => {
    const place = freshStore();
    const store = place.open();
    const older = await arrive(store, 'g');
    const newer = await arrive(store, 'g');
    expect(await statusOf(store, older)).toEqual(['queued', null]);
    expect(await statusOf(store, newer)).toEqual(['waiting', null]);
    expect(await store.claimRun(newer, owner)).toBe('wait');
    expect(await store.claimRun(older, owner)).toBe('run');
    expect(await store.claimRun(newer, owner)).toBe('wait');
    await store.finishRun(older, succeeded);
    expect(await store.claimRun(newer, owner)).toBe('run');
  });

  it('with cancel-in-progress, asks the running one to stop and supersedes the waiting one', async () => {
    const store = freshStore().open();
    const running = await arrive(store, 'g', true);
    expect(await store.claimRun(running, owner)).toBe('run');
    const waiting = await arrive(store, 'g', false);
    const newest = await arrive(store, 'g', true);
    expect(await statusOf(store, waiting)).toEqual(['cancelled', `superseded by run ${newest}, newer in concurrency group "g"`]);
    expect(await store.cancelRequested([running, newest])).toEqual([
      { runId: running, reason: `cancelled by run ${newest}, newer in concurrency group "g" (cancel-in-progress)` },
    ]);
    // It waits until the running one has stopped and recorded its end.
    expect(await store.claimRun(newest, owner)).toBe('wait');
    await store.finishRun(running, { status: 'cancelled', exitCode: null, reason: 'stopped', steps: [] });
    expect(await store.claimRun(newest, owner)).toBe('run');
  });

  it('with cancel-in-progress, cancels outright a holder that has not started, and runs at once', async () => {
    const store = freshStore().open();
    const holder = await arrive(store, 'g');
    const newest = await arrive(store, 'g', true);
    expect(await statusOf(store, holder)).toEqual([
      'cancelled',
      `cancelled by run ${newest}, newer in concurrency group "g" (cancel-in-progress)`,
    ]);
    expect(await store.claimRun(holder, owner)).toBe('cancelled');
    expect(await store.claimRun(newest, owner)).toBe('run');
  });

  it('keeps groups apart, and leaves runs without a group alone', async () => {
    const store = freshStore().open();
    const main = await arrive(store, 'ci-main');
    expect(await store.claimRun(main, owner)).toBe('run');
    const dev = await arrive(store, 'ci-dev');
    const free = await arrive(store, undefined);
    expect(await store.claimRun(dev, owner)).toBe('run');
    expect(await store.claimRun(free, owner)).toBe('run');
  });

  it('marks lost a waiting run whose trig died, and lets the group go on once a dead holder is reaped', async () => {
    const store = freshStore().open();
    const isAlive = (o: Owner) => o.pid !== 999_999_999;
    const deadOwner: Owner = { ...owner, pid: 999_999_999 };
    const holder = await store.admitEvent(
      { name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} },
      {
        decisions: [],
        runs: [{ key: 'dead holder', file: '/d.yaml', definition: 'deploy', group: { name: 'g', cancelInProgress: false } }],
        owner: deadOwner,
      },
    );
    if (holder.duplicate) throw new Error('duplicate');
    const holderId = holder.runs[0]!.id;
    expect(await store.claimRun(holderId, deadOwner)).toBe('run');
    const next = await arrive(store, 'g');
    expect(await store.claimRun(next, owner)).toBe('wait');
    expect(await store.reapLost(isAlive)).toEqual([{ runId: holderId, groups: [] }]);
    expect(await store.claimRun(next, owner)).toBe('run');

    const waiter = await store.admitEvent(
      { name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} },
      {
        decisions: [],
        runs: [{ key: 'dead waiter', file: '/d.yaml', definition: 'deploy', group: { name: 'g', cancelInProgress: false } }],
        owner: deadOwner,
      },
    );
    if (waiter.duplicate) throw new Error('duplicate');
    expect(await statusOf(store, waiter.runs[0]!.id)).toEqual(['waiting', null]);
    expect(await store.reapLost(isAlive)).toEqual([{ runId: waiter.runs[0]!.id, groups: [] }]);
    expect((await statusOf(store, waiter.runs[0]!.id))[0]).toBe('lost');
  });

  it('quotes a hostile group name in reasons on one line', async () => {
    const store = freshStore().open();
    const name = 'ci-\u001b[2Jevil\nbranch';
    const first = await arrive(store, name);
    await store.claimRun(first, owner);
    const second = await arrive(store, name);
    const third = await arrive(store, name);
    expect((await statusOf(store, second))[1]).toBe(`superseded by run ${third}, newer in concurrency group "ci-\\u001b[2Jevil\\nbranch"`);
  });
});
