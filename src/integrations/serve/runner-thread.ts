// The run thread as the receiving thread holds it: what it is told, what it said, and how
// many deliveries wait for it (the count --queue bounds and /healthz shows).

import type { ClaimedRun, GateOutcome } from '../../store/store.js';
import { UsageError } from '../../shared/errors.js';
import type { FromRunner, PageDecision, ToRunner } from './runner-protocol.js';

/** What of node:worker_threads' Worker this needs (tests may hand another). */
export interface RunnerWorker {
  postMessage(message: ToRunner): void;
  on(event: 'message', listener: (message: FromRunner) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

export class RunnerThread {
  /** Acknowledged deliveries the run thread has not taken yet. */
  waiting = 0;
  /** Deliveries it is firing. */
  running = 0;
  /** Resolves once it started (or rejects: a UsageError when the user can fix why). */
  readonly ready: Promise<{ definitions: number; waiting: number }>;
  /** Resolves once it stopped after `stop`, true when runs had to be stopped. */
  readonly stopped: Promise<boolean>;
  /** Resolves once the thread is gone. */
  readonly exited: Promise<void>;
  /** Resolves, with why, if the thread fails or ends unasked after it started. */
  readonly broken: Promise<string>;

  private readonly decisions = new Map<number, { resolve(outcome: GateOutcome | 'stopping'): void; reject(error: Error): void }>();
  private nextDecision = 1;

  constructor(private readonly worker: RunnerWorker) {
    let started = false;
    let stopAsked = false;
    let ready!: { resolve(value: { definitions: number; waiting: number }): void; reject(error: Error): void };
    let stopped!: (stoppedRuns: boolean) => void;
    let broken!: (why: string) => void;
    this.ready = new Promise((resolve, reject) => (ready = { resolve, reject }));
    this.stopped = new Promise((resolve) => (stopped = resolve));
    this.broken = new Promise((resolve) => (broken = resolve));
    const fail = (why: string) => {
      if (!started) ready.reject(new Error(why));
      else broken(why);
      // Nothing waits on a thread that is gone.
      stopped(false);
      for (const { reject } of this.decisions.values()) reject(new Error(why));
      this.decisions.clear();
    };
    this.exited = new Promise((resolve) =>
      worker.on('exit', (code) => {
        if (!stopAsked || !started) fail(`the run thread ended (exit code ${code})`);
        resolve();
      }),
    );
    worker.on('error', (error) => fail(error.message));
    worker.on('message', (message) => {
      switch (message.kind) {
        case 'ready':
          started = true;
          this.waiting = message.waiting;
          return ready.resolve(message);
        case 'failed':
          return ready.reject(message.usage ? new UsageError(message.message) : new Error(message.message));
        case 'progress':
          this.waiting = Math.max(0, this.waiting - message.started);
          this.running += message.started - message.finished;
          return;
        case 'decided':
          this.decisions.get(message.id)?.resolve(message.outcome);
          this.decisions.delete(message.id);
          return;
        case 'decide-failed':
          this.decisions.get(message.id)?.reject(message.usage ? new UsageError(message.message) : new Error(message.message));
          this.decisions.delete(message.id);
          return;
        case 'stopped':
          return stopped(message.stoppedRuns);
        default:
          return exhaustive(message);
      }
    });
    this.stop = (signal) => {
      stopAsked = true;
      worker.postMessage({ kind: 'stop', signal });
    };
  }

  /** A delivery was stored (one more waits); the run thread is told once a turn. */
  admitted(): void {
    if (!this.told)
      setImmediate(() => {
        this.told = false;
        this.worker.postMessage({ kind: 'admitted' });
      });
    this.told = true;
    this.waiting++;
  }
  private told = false;

  /** A decision made on the page: resolves once it is recorded (a run it approves goes on in the run thread). */
  decide(request: PageDecision): Promise<GateOutcome | 'stopping'> {
    const id = this.nextDecision++;
    return new Promise((resolve, reject) => {
      this.decisions.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'decide', id, request });
    });
  }

  carry(claimed: ClaimedRun): void {
    this.worker.postMessage({ kind: 'carry', claimed });
  }

  /** Take nothing more; the runs have the grace period. */
  readonly stop: (signal: NodeJS.Signals) => void;

  /** Stop the runs now. */
  abort(signal: NodeJS.Signals): void {
    this.worker.postMessage({ kind: 'abort', signal });
  }
}

function exhaustive(message: never): never {
  throw new Error(`unknown message ${JSON.stringify(message)}`);
}
