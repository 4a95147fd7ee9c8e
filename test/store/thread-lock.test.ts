import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { NewEvent } from '../../src/store/store.js';
import { ThreadLock } from '../../src/store/thread-lock.js';

// Another thread holds the lock the way ThreadLock does (the cell at 1), then lets it go
// (0, and a wake-up) after `holdMs`; -1 never.
function holdInAnotherThread(buffer: SharedArrayBuffer, holdMs: number): Promise<Worker> {
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const cell = new Int32Array(workerData.buffer);
     Atomics.store(cell, 0, 1);
     parentPort.postMessage('held');
     if (workerData.holdMs >= 0) setTimeout(() => { Atomics.store(cell, 0, 0); Atomics.notify(cell, 0, 1); }, workerData.holdMs);
     else setInterval(() => {}, 1000);`,
    { eval: true, workerData: { buffer, holdMs } },
  );
  return new Promise((resolve) => worker.once('message', () => resolve(worker)));
}

describe('ThreadLock', () => {
  it('waits while another thread holds it and takes it once that thread lets go, without polling late', async () => {
    const lock = new ThreadLock();
    const worker = await holdInAnotherThread(lock.buffer, 100);
    const started = performance.now();
    expect(lock.acquire(5000)).toBe(true);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(50);
    expect(waited).toBeLessThan(2000);
    lock.release();
    await worker.terminate();
  });

  it('gives up after the bound when it is never let go (SQLite keeps the writers apart then)', async () => {
    const lock = new ThreadLock();
    const worker = await holdInAnotherThread(lock.buffer, -1);
    const started = performance.now();
    expect(lock.acquire(50)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    await worker.terminate();
  });

  it('is taken at once when free, and again after release; a shared buffer is the same lock', () => {
    const lock = new ThreadLock();
    const same = new ThreadLock(lock.buffer);
    expect(lock.acquire(0)).toBe(true);
    expect(same.acquire(0)).toBe(false);
    lock.release();
    expect(same.acquire(0)).toBe(true);
    same.release();
  });
});

// trig serve's two connections to one store: the receiving one ({ lock }) and the run
// thread's, which also checkpoints on a timer (walCheckpointEveryMs). Both live in this
// thread here; the timer runs while the writes below await.
describe('StoreSharing: checkpoints on a timer', () => {
  const payloadJson = JSON.stringify({ text: 'x'.repeat(8 * 1024) });
  const event = (i: number): NewEvent => ({
    name: 'push',
    source: 'http',
    at: new Date(),
    deliveryKey: `d${i}`,
    places: ['/defs'],
    payload: {},
    payloadJson,
  });
  const sizes = (dir: string) => ({
    db: statSync(path.join(dir, 'trig.db')).size,
    wal: statSync(path.join(dir, 'trig.db-wal')).size,
  });
  const freshDir = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'trig-sharing-')), 'state');

  it("fold the log into the database file apart from any write, on the checkpointing connection's timer only", async () => {
    const lock = new ThreadLock();
    const dir = freshDir();
    const receiving = openSqliteStore(dir, { sharing: { lock } });
    // 100 deliveries of 8 KiB: some 300 pages, under the 1000 at which a commit checkpoints.
    for (let i = 0; i < 100; i++) await receiving.admitEvents([event(i)]);
    const written = sizes(dir);
    await delay(150);
    expect(sizes(dir).db).toBe(written.db);
    const running = openSqliteStore(dir, { sharing: { lock, walCheckpointEveryMs: 20 } });
    try {
      await until(() => sizes(dir).db > written.db + 100 * 8 * 1024);
      expect(sizes(dir).wal).toBe(written.wal);
    } finally {
      running.close();
      receiving.close();
    }
  });

  it('leave the checkpoint a commit makes when the log passes 1000 pages on the other connection: only that one reaches the end of the log under writes from another thread, so that the log starts over', async () => {
    const lock = new ThreadLock();
    const dir = freshDir();
    const receiving = openSqliteStore(dir, { sharing: { lock } });
    try {
      await receiving.admitEvents([event(0)]);
      const empty = sizes(dir).db;
      // 400 deliveries of 8 KiB, some 1,200 pages: past the mark, with no timer anywhere.
      for (let i = 1; i <= 400; i++) await receiving.admitEvents([event(i)]);
      expect(sizes(dir).db).toBeGreaterThan(empty + 2 * 1024 * 1024);
      expect(sizes(dir).wal).toBeLessThan(1100 * (4096 + 24));
    } finally {
      receiving.close();
    }
  });
});

async function until(probe: () => boolean, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error('gave up waiting');
    await delay(10);
  }
}
