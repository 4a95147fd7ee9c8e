// How the fire core keeps its promises through the store: the process that owns a run, how a
// dead owner is recognised, and the observer that records each run's life (claim, process
// groups, masked log lines, end) while the executor runs it.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { RunObserver } from '../execute/execute.js';
import type { RunResult, RunSuspension, StepResult } from '../execute/run.js';
import { DEFINITION_GATE } from '../shared/approval.js';
import { oneLine } from '../shared/printable.js';
import type { StoreSharing } from '../store/thread-lock.js';
import {
  LOG_LIMIT_BYTES,
  logLineBytes,
  type LogLine,
  type Owner,
  type ProcessGroup,
  type RunSnapshot,
  type Store,
} from '../store/store.js';

/** How often a run waiting for its concurrency group asks again, and a running one looks for a cancel request. */
const POLL_MS = 200;
/** Log lines are written in batches: at most this long after they were printed. */
const LOG_FLUSH_MS = 250;

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStart(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let self: Owner | undefined;

/** This process, as the owner of the runs it starts. */
export function thisProcess(): Owner {
  self ??= { host: os.hostname(), pid: process.pid, startedAt: processStart('self') ?? '' };
  return self;
}

/** Whether the process that owns a run is still the one that started it (not a pid reused since). */
export function ownerAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStart(owner.pid);
  return started === undefined || owner.startedAt === '' || started === owner.startedAt;
}

/** TRIG_KEEP_EVENTS: the automatic bound on stored events, when set (a positive whole number). */
function keepEventsOf(env: NodeJS.ProcessEnv, fail: (message: string) => Error): number | undefined {
  const text = env.TRIG_KEEP_EVENTS;
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw fail(`TRIG_KEEP_EVENTS "${oneLine(text)}": expected a positive whole number`);
  return n;
}

/**
 * Opens the store of this user (lazily loaded: only a fire that needs it pays for it) and
 * settles the runs of trig processes that died: their surviving process groups are stopped
 * and the runs marked lost.
 */
export async function openStore(env: NodeJS.ProcessEnv, sharing?: StoreSharing): Promise<Store> {
  const { stateDir, StorePlaceError } = await import('../store/place.js');
  const { openSqliteStore } = await import('../store/sqlite.js');
  const keepEvents = keepEventsOf(env, (message) => new StorePlaceError(message));
  const store = openSqliteStore(stateDir(env), {
    ...(keepEvents === undefined ? {} : { keepEvents }),
    ...(sharing ? { sharing } : {}),
  });
  await settleLost(store);
  return store;
}

/**
 * The store, for commands that only read it (trig runs, logs, history, prune); undefined
 * when nothing was ever recorded, and then nothing is created (not even the folder).
 */
export async function openStoreIfAny(env: NodeJS.ProcessEnv): Promise<Store | undefined> {
  const { stateDir, storeExists } = await import('../store/place.js');
  return storeExists(stateDir(env)) ? openStore(env) : undefined;
}

/**
 * Whether a recorded process group is still the one a run started. Its leader alive with
 * another start time means the pid was reused: not that group. Its leader gone, the group
 * id cannot have been reused while any member lives (the kernel keeps a group's id taken),
 * so stopping it reaches only the run's own survivors, or nothing.
 */
export function sameGroup(group: ProcessGroup): boolean {
  const started = processStart(group.pgid);
  return started === undefined || group.startedAt === '' || started === group.startedAt;
}

/** Marks lost the runs whose trig process died, and stops what they left running. */
export async function settleLost(store: Store): Promise<void> {
  const lost = await store.reapLost(ownerAlive);
  // What a dead trig left running (its steps are process-group leaders of their own), while
  // the group is still the one it started: a pid reused since is someone else's process.
  // The run's processes are also looked for by their environment: a trig killed just after
  // spawning a step had not recorded its group yet.
  if (!lost.length) return;
  const groups = lost.flatMap((run) => run.groups).filter(sameGroup);
  const { stopGroup, stopRunProcesses } = await import('../execute/process.js');
  await Promise.all([...groups.map((group) => stopGroup(group.pgid)), stopRunProcesses(lost.map((run) => run.runId))]);
}

/** Records each run of one fire in the store; runs are given by their index in the executed requests. */
interface PendingLog {
  lines: LogLine[];
  /** lines[start…] are kept; the ones before were dropped (an index, so dropping stays O(1)). */
  start: number;
  bytes: number;
  /** Bytes of lines dropped before reaching the store: they were over its cap already. */
  dropped: number;
}

export class RecordingObserver implements RunObserver {
  private readonly pending = new Map<number, PendingLog>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly cancels = new Map<number, (reason: string) => void>();
  private cancelTimer: NodeJS.Timeout | undefined;
  private writes: Promise<void> = Promise.resolve();
  /** Runs this process no longer owns (cancelled by their group while a retry waited): their end is not recorded. */
  private readonly disowned = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly runIds: readonly string[],
    /** What planning each run again needs: with it, a run's waiting retries survive this process. */
    private readonly snapshots: readonly (RunSnapshot | undefined)[] = [],
    /** The runs were claimed already (resumed runs): they start at once. */
    private readonly claimed = false,
    /** The variables a gate's channel reads (its URL, its secrets); without them, the next look at the gates notifies. */
    private readonly env?: NodeJS.ProcessEnv,
  ) {
    // Suspending needs a snapshot; without one, retries wait in this process only.
    if (!snapshots.some(Boolean)) {
      this.suspend = undefined;
      this.reclaim = undefined;
    }
  }

  /** Store calls are queued one after another, in the order the run told them. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    this.writes = this.writes.then(work, work);
    return this.writes;
  }

  async begin(
    index: number,
    cancel: (reason: string) => void,
    stop: AbortSignal,
    note: (message: string) => void,
  ): Promise<{ cancelled?: string }> {
    const id = this.runIds[index]!;
    for (let waited = false; !this.claimed; waited = true) {
      if (stop.aborted) return { cancelled: 'trig was stopped while the run waited for its concurrency group' };
      const claim = await this.store.claimRun(id, thisProcess());
      if (claim === 'run') break;
      if (claim === 'cancelled') {
        const run = await this.store.findRun(id);
        return { cancelled: ('found' in run && run.found.reason) || 'cancelled' };
      }
      if (!waited) {
        const run = await this.store.findRun(id);
        const group = 'found' in run && run.found.group !== null ? ` ${oneLine(JSON.stringify(run.found.group))}` : '';
        note(`waiting: another run of concurrency group${group} is in progress`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      // The run it waits for may belong to a trig that died: nothing else would end it.
      await settleLost(this.store);
    }
    this.cancels.set(index, cancel);
    this.cancelTimer ??= setInterval(() => void this.checkCancels(), POLL_MS);
    return {};
  }

  private async checkCancels(): Promise<void> {
    const running = [...this.cancels.keys()];
    const asked = new Map((await this.store.cancelRequested(running.map((i) => this.runIds[i]!))).map((r) => [r.runId, r.reason]));
    for (const index of running) {
      const reason = asked.get(this.runIds[index]!);
      if (reason === undefined) continue;
      this.cancels.get(index)?.(reason);
      this.cancels.delete(index);
    }
  }

  suspend? = async (index: number, point: RunSuspension, entry: StepResult, handOver: boolean): Promise<string | void> => {
    const snapshot = this.snapshots[index];
    if (!snapshot) return;
    const { at, approval, intervention, approved: _approved, decision: _decision, ...rest } = point;
    const runId = this.runIds[index]!;
    // Loaded only here: node:crypto stays out of the fires that reach no gate (the cron tick).
    // A step may wait for a person again after each retry they decide: its tries tell the gates apart.
    const gate =
      approval || intervention
        ? (await import('../store/ids.js')).gateIdOf(runId, point.stage, point.path, intervention ? point.attempts.length : undefined)
        : undefined;
    const where = entry.name === null ? (entry.stage === DEFINITION_GATE ? 'approval' : `stage ${entry.stage}`) : `step ${entry.name}`;
    const until = `(gate ${gate}) until ${at.toISOString()}`;
    const reason = approval
      ? `awaiting approval ${until}`
      : intervention
        ? `${intervention.message}; awaiting manual intervention ${until}`
        : (entry.reason ?? 'waiting for a retry');
    // The lines so far are stored first: the process may not live to flush them later.
    await this.flush();
    await this.enqueue(() =>
      this.store.suspendRun(runId, {
        resume: {
          kind: gate ? 'approval' : 'retry',
          ...rest,
          at: at.toISOString(),
          ...(gate ? { gate } : {}),
          ...(intervention?.timeoutRetry ? { timeoutRetry: intervention.timeoutRetry } : {}),
        },
        snapshot,
        steps: [...point.steps, entry],
        reason: `${where}: ${reason}`,
        owner: handOver ? null : thisProcess(),
        ...(approval
          ? {
              gate: {
                step: point.step,
                ...(approval.message !== undefined ? { message: approval.message } : {}),
                settings: {
                  uses: approval.uses,
                  timeout: approval.timeout,
                  timeoutAction: approval.timeoutAction,
                  minApprovers: approval.minApprovers,
                  approvers: approval.approvers,
                  ...(approval.channel ? { channel: approval.channel } : {}),
                },
                notify: approval.uses !== 'cli',
              },
            }
          : {}),
        ...(intervention
          ? {
              gate: {
                step: point.step,
                message: intervention.message,
                settings: {
                  kind: 'intervention',
                  uses: 'cli',
                  timeout: intervention.timeout,
                  timeoutAction: intervention.timeoutAction,
                  minApprovers: 1,
                  approvers: [],
                },
              },
            }
          : {}),
      }),
    );
    // Right after the gate is recorded (with its notification, due now); a failure is
    // recorded and retried by whoever looks next, and never holds the run.
    if (gate && approval && approval.uses !== 'cli' && this.env) {
      const env = this.env;
      await this.enqueue(async () => {
        const { deliver } = await import('./notify/index.js');
        await deliver(this.store, gate, env, new Date());
      });
    }
    return gate;
  };

  reclaim? = async (index: number): Promise<{ lost?: string }> => {
    if (!this.snapshots[index]) return {};
    const id = this.runIds[index]!;
    const me = thisProcess();
    let lost: string | undefined;
    await this.enqueue(async () => {
      if (await this.store.claimResume(id, { owner: me, from: me })) return;
      const run = await this.store.findRun(id);
      lost = ('found' in run && run.found.status === 'cancelled' && run.found.reason) || 'another trig process took the run over';
    });
    if (lost === undefined) return {};
    this.disowned.add(index);
    return { lost };
  };

  processStarted(index: number, pgid: number): void {
    // Read now, while the leader is the step just spawned.
    const group = { pgid, startedAt: processStart(pgid) ?? '' };
    void this.enqueue(() => this.store.trackProcess(this.runIds[index]!, group, true));
  }

  processEnded(index: number, pgid: number): void {
    void this.enqueue(() => this.store.trackProcess(this.runIds[index]!, { pgid, startedAt: '' }, false));
  }

  line(index: number, step: string | null, masked: string): void {
    let log = this.pending.get(index);
    if (!log) this.pending.set(index, (log = { lines: [], start: 0, bytes: 0, dropped: 0 }));
    log.lines.push({ step, text: masked });
    log.bytes += logLineBytes(masked);
    // The store keeps each run's last LOG_LIMIT_BYTES: what a flood pushes out before the
    // next flush is counted, not held in memory.
    while (log.bytes > LOG_LIMIT_BYTES && log.start < log.lines.length - 1) {
      const size = logLineBytes(log.lines[log.start++]!.text);
      log.bytes -= size;
      log.dropped += size;
    }
    // Dropped lines are let go of once they are half the array (amortised O(1) per line).
    if (log.start > 1024 && log.start * 2 > log.lines.length) {
      log.lines = log.lines.slice(log.start);
      log.start = 0;
    }
    this.flushTimer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS);
  }

  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    return this.enqueue(async () => {
      for (const [index, log] of batches) await this.store.appendLog(this.runIds[index]!, log.lines.slice(log.start), log.dropped);
    });
  }

  async end(index: number, result: RunResult): Promise<void> {
    this.cancels.delete(index);
    if (!this.cancels.size && this.cancelTimer) {
      clearInterval(this.cancelTimer);
      this.cancelTimer = undefined;
    }
    await this.flush();
    // A run handed over (a retry, a gate) is not over; one this process lost is another's to end.
    if (result.status === 'retrying' || result.status === 'awaiting_approval' || this.disowned.has(index)) return;
    await this.enqueue(() =>
      this.store.finishRun(this.runIds[index]!, {
        status: result.status,
        exitCode: result.exitCode,
        ...(result.reason ? { reason: result.reason } : {}),
        steps: result.steps,
      }),
    );
  }
}
