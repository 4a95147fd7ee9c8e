// What trig serve's two threads say to each other. The receiving thread (server.ts) takes
// requests in and stores them; the run thread (runner.ts) holds the definitions and runs
// what was stored, so that a run's work (its process spawned, its records synced) never
// holds an acknowledgement up. Every message is plain data (structured clone).

import type { DecisionRequest } from '../../fire/approvals.js';
import type { ClaimedRun, GateOutcome } from '../../store/store.js';

/** A decision asked for on the page, made and carried on in the run thread. */
export type PageDecision = Omit<DecisionRequest, 'onDecided'>;

/** From the receiving thread to the run thread. */
export type ToRunner =
  /** Deliveries were stored: there is something to run. */
  | { kind: 'admitted' }
  /** Decide a gate (the page); answered with `decided` or `decide-failed` of the same id. */
  | { kind: 'decide'; id: number; request: PageDecision }
  /** Carry on a run an approval link claimed. */
  | { kind: 'carry'; claimed: ClaimedRun }
  /** A stop signal: take nothing more; the runs have the grace period, then are stopped. */
  | { kind: 'stop'; signal: NodeJS.Signals }
  /** A second stop signal: stop the runs now. */
  | { kind: 'abort'; signal: NodeJS.Signals };

/** From the run thread to the receiving thread. */
export type FromRunner =
  /** Started: the definitions loaded, the store open; `waiting` acknowledged deliveries not run before. */
  | { kind: 'ready'; definitions: number; waiting: number }
  /** Could not start (`usage`: a problem the user can fix, such as definitions that do not load). */
  | { kind: 'failed'; message: string; usage: boolean }
  /** Since the last progress: how many deliveries were started, and how many fires ended. */
  | { kind: 'progress'; started: number; finished: number }
  /** `stopping`: the run thread began to stop first, and decided nothing. */
  | { kind: 'decided'; id: number; outcome: GateOutcome | 'stopping' }
  | { kind: 'decide-failed'; id: number; message: string; usage: boolean }
  /** After a stop: nothing runs any more; `stoppedRuns` when runs had to be stopped. */
  | { kind: 'stopped'; stoppedRuns: boolean };

/** What the run thread is started with (workerData); the receiving thread's own settings it needs. */
export interface RunnerSettings {
  defs: readonly string[];
  concurrency: number;
  graceMs: number;
  /** Niceness the run thread adds to its own (and so to every process it starts). */
  nice: number;
}
