import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
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
