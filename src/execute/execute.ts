import { randomUUID } from 'node:crypto';
import type { RunPlan } from '../plan/plan.js';
import type { Masker } from '../shared/mask.js';
import type { Style } from '../shared/style.js';
import { RunOutput } from './output.js';
import { stopGroup, type StopReason } from './process.js';
import { executeRun, type RunResult, type RunSuspension, type StepResult } from './run.js';

export interface RunRequest {
  /** The run's id (TRIG_RUN_ID); a fresh one when absent. */
  id?: string;
  definition: string;
  event: string;
  trigger: Record<string, unknown>;
  plan: RunPlan;
  /** The run's payload (TRIG_PAYLOAD), when not the options' one (runs resumed together). */
  payload?: unknown;
  /** Goes on from where a suspended run stopped (trig resume). */
  resume?: Omit<RunSuspension, 'at'>;
  /** When a resumed run started (epoch ms). */
  startedAt?: number;
}

export interface ExecuteOptions {
  concurrency: number;
  timeoutMs?: number;
  workdir: string;
  env: NodeJS.ProcessEnv;
  payload: unknown;
  write(text: string): void;
  /** While the destination of write is behind: a promise that settles when it has caught up. */
  backlog?(): Promise<void> | undefined;
  style: Style;
  mask: Masker;
  quiet: boolean;
  graceMs?: number;
  /** Told of each run's life, to record it (the store); may hold a run back (a concurrency group). */
  observer?: RunObserver;
  /**
   * A caller that handles signals itself (trig watch) aborts this with the signal's name:
   * the runs stop as for that signal, also when it came before they started.
   */
  stop?: AbortSignal;
  /** The runs do not listen to SIGINT, SIGTERM and SIGHUP: only `stop` stops them (trig serve's grace period). */
  ignoreSignals?: boolean;
}

/**
 * What a caller learns of each run (by its index in the requests) while it runs. The
 * executor never waits on it except in `begin` and `end`.
 */
export interface RunObserver {
  /**
   * Before the run starts. Resolves when it may start, or with the reason it is not run
   * (cancelled). `cancel` stops the run later, as cancelled, with that reason; `note` says
   * something about the run in its output (why it waits).
   */
  begin(
    index: number,
    cancel: (reason: string) => void,
    stop: AbortSignal,
    note: (message: string) => void,
  ): Promise<{ cancelled?: string }>;
  /**
   * Optional: a step waits for its next attempt (see RunSuspender). Without it, retries wait
   * in this process only.
   */
  suspend?(index: number, point: RunSuspension, entry: StepResult, handOver: boolean): Promise<string | void>;
  /** After the wait: the run is this process's again, or why not. */
  reclaim?(index: number): Promise<{ lost?: string }>;
  processStarted(index: number, pgid: number): void;
  processEnded(index: number, pgid: number): void;
  /** A masked line of the run's output; step is null for lines about the whole run. */
  line(index: number, step: string | null, masked: string): void;
  end(index: number, result: RunResult): Promise<void>;
}

export interface ExecuteResult {
  runs: RunResult[];
  /** The signal that stopped trig, if one did. */
  signal?: NodeJS.Signals;
  durationMs: number;
}

async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Runs the matched definitions, at most `concurrency` at once. While they run, SIGINT,
 * SIGTERM and SIGHUP stop every child process tree (SIGTERM, then SIGKILL after the grace
 * period); a second signal SIGKILLs them at once.
 */
export async function executeRuns(requests: readonly RunRequest[], options: ExecuteOptions): Promise<ExecuteResult> {
  const started = performance.now();
  const stop = new AbortController();
  const groups = new Set<number>();
  let received: NodeJS.Signals | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      for (const pgid of groups) void stopGroup(pgid, 0);
      return;
    }
    received = signal;
    stop.abort({ kind: 'signal', signal } satisfies StopReason);
  };
  const signals: NodeJS.Signals[] = options.ignoreSignals ? [] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  // The caller's stop is the same signal this process got: never a second one.
  const onStop = () => received ?? onSignal(options.stop!.reason as NodeJS.Signals);
  if (options.stop?.aborted) onStop();
  else options.stop?.addEventListener('abort', onStop);

  try {
    const { observer } = options;
    const runs = await pool(requests, options.concurrency, async (request, index) => {
      const cancel = new AbortController();
      const id = request.id ?? randomUUID();
      const output = new RunOutput(options, request.definition, index, observer && ((step, masked) => observer.line(index, step, masked)));
      const begun = observer
        ? await observer.begin(
            index,
            (reason) => cancel.abort({ kind: 'cancel', reason } satisfies StopReason),
            stop.signal,
            (message) => output.note(message),
          )
        : {};
      if (begun.cancelled !== undefined || stop.signal.aborted) {
        const reason = begun.cancelled ?? `not started: trig received ${received}`;
        output.finished('cancelled', `(${reason})`);
        const result: RunResult = { id, status: 'cancelled', exitCode: null, durationMs: 0, reason, steps: [] };
        await observer?.end(index, result);
        return result;
      }
      const result = await executeRun(request.plan, {
        id,
        definition: request.definition,
        event: request.event,
        trigger: request.trigger,
        payload: 'payload' in request ? request.payload : options.payload,
        workdir: options.workdir,
        env: options.env,
        output,
        timeoutMs: options.timeoutMs,
        stop: AbortSignal.any([stop.signal, cancel.signal]),
        graceMs: options.graceMs,
        mask: options.mask,
        ...(observer?.suspend && observer.reclaim
          ? {
              suspender: {
                suspend: (point: RunSuspension, entry: StepResult, handOver: boolean) => observer.suspend!(index, point, entry, handOver),
                reclaim: () => observer.reclaim!(index),
              },
            }
          : {}),
        ...(request.resume ? { resume: request.resume } : {}),
        ...(request.startedAt !== undefined ? { startedAt: request.startedAt } : {}),
        track: {
          add: (pgid) => {
            groups.add(pgid);
            observer?.processStarted(index, pgid);
          },
          delete: (pgid) => {
            groups.delete(pgid);
            observer?.processEnded(index, pgid);
          },
        },
      });
      await observer?.end(index, result);
      return result;
    });
    return { runs, ...(received ? { signal: received } : {}), durationMs: Math.round(performance.now() - started) };
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    options.stop?.removeEventListener('abort', onStop);
  }
}
