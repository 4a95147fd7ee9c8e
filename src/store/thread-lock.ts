// One process's SQLite connections take turns at writing through this lock, shared between
// its threads (trig serve receives on one and runs on another). SQLite keeps writers apart
// itself, but a writer that finds the database locked sleeps and looks again (1, 2, 5, 10 ms…),
// so two busy threads of one process would keep waking late for each other; here the next
// writer is woken the moment the last one is done. It only orders the process's own writers:
// SQLite's lock still keeps every writer, of any process, apart, so a wait that runs out
// goes on to SQLite's.

export class ThreadLock {
  private readonly cell: Int32Array;

  /** `buffer`: another thread's lock's, to share it (a SharedArrayBuffer passes to a worker as itself). */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  /** Waits at most `maxMs` for the lock; true when it is held (and must be released). */
  acquire(maxMs: number): boolean {
    const deadline = Date.now() + maxMs;
    while (Atomics.compareExchange(this.cell, 0, 0, 1) !== 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.cell, 0, 1, left);
    }
    return true;
  }

  release(): void {
    Atomics.store(this.cell, 0, 0);
    Atomics.notify(this.cell, 0, 1);
  }
}

/**
 * How one of a process's threads shares the store with the others. A commit that takes
 * SQLite's write-ahead log past 1000 pages folds the log back into the database file there
 * and then (a checkpoint), holding the write lock; in trig serve, where deliveries of 8 KiB
 * fill the log within a second, that copied megabytes while the receiving thread's answers
 * waited. So one thread also checkpoints on a timer, apart from any write, and the commit
 * that passes the mark finds little left to copy. That commit still checkpoints: only a
 * checkpoint made while no one appends reaches the end of the log and lets the next write
 * start it over, so a log checkpointed on the timer alone would grow without end.
 */
export interface StoreSharing {
  lock: ThreadLock;
  /** Checkpoint (PASSIVE: writers go on meanwhile) this often. */
  walCheckpointEveryMs?: number;
}
