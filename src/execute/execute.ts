import type { RunPlan } from '../plan/plan.js';
import type { Masker } from '../shared/mask.js';
import type { Style } from '../shared/style.js';
import { RunOutput } from './output.js';
import { stopGroup, type StopReason } from './process.js';
import { executeRun, type RunResult } from './run.js';

export interface RunRequest {
  definition: string;
  event: string;
  trigger: Record<string, unknown>;
  plan: RunPlan;
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
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);

  try {
    const runs = await pool(requests, options.concurrency, (request, index) =>
      executeRun(request.plan, {
        definition: request.definition,
        event: request.event,
        trigger: request.trigger,
        payload: options.payload,
        workdir: options.workdir,
        env: options.env,
        output: new RunOutput(options, request.definition, index),
        timeoutMs: options.timeoutMs,
        stop: stop.signal,
        graceMs: options.graceMs,
        track: groups,
      }),
    );
    return { runs, ...(received ? { signal: received } : {}), durationMs: Math.round(performance.now() - started) };
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}
