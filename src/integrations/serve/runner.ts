// trig serve's run thread: everything that runs. It holds the definitions (reloaded when
// their files change; the last good version of a broken file keeps serving), takes the
// acknowledged deliveries from the store oldest first and fires each through the fire core
// with a bounded pool, carries on runs whose retry is due, and makes the page's decisions
// and carries on what they approve. The receiving thread (server.ts) only stores deliveries
// and says so (`admitted`): the store is the queue, so what a stopped or killed receiver
// acknowledged is found here the same way at the next start.
//
//   store (undispatched, oldest first) -> pool (--concurrency) -> fire core (dispatch, plan, execute, record)

import os from 'node:os';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { definitionPlaces, fire, type FireDeps, type FireOptions, type FireOutcome } from '../../fire/index.js';
import type { ResumeDeps, ResumeOutcome } from '../../fire/resume.js';
import { StoreBusyError, UsageError } from '../../shared/errors.js';
import { noticesTo, type Output } from '../../shared/io.js';
import { oneLine } from '../../shared/printable.js';
import { plural } from '../../shared/records.js';
import type { Style } from '../../shared/style.js';
import { resumeHinted, stateDir } from '../../store/place.js';
import type { ClaimedRun, Store, StoredEvent, UndispatchedEvent } from '../../store/store.js';
import type { CheckResult } from '../../validate/check.js';
import { DefinitionKeeper, reportBroken, type Served } from '../watch/definitions.js';
import { definitionRoots } from '../watch/watch.js';
import type { FromRunner, PageDecision, RunnerSettings, ToRunner } from './runner-protocol.js';

/** Definition files are reloaded this long after their last change. */
const RELOAD_DEBOUNCE_MS = 300;
/** How many acknowledged deliveries are fetched from the store at once. */
const FETCH = 32;
/** How often runs whose retry is due are looked for (the hint file first: one lstat). */
const RESUME_POLL_MS = 1000;

export interface RunnerOptions extends RunnerSettings {
  fireOptions: Partial<FireOptions>;
  deps: Pick<FireDeps, 'now' | 'env' | 'cwd'>;
  openStore(): Promise<Store>;
  loadDefinitions(paths: readonly string[]): Promise<{ files: string[]; checked: CheckResult }>;
  io: Output;
  style: Style;
}

/** The receiving thread, as the run thread sees it. */
export interface RunnerPort {
  postMessage(message: FromRunner): void;
  on(event: 'message', listener: (message: ToRunner) => void): unknown;
  off(event: 'message', listener: (message: ToRunner) => void): unknown;
}

/** Runs until told to stop; says `ready`, or `failed` when it cannot start. */
export async function runDeliveries(options: RunnerOptions, port: RunnerPort): Promise<void> {
  const { io, deps } = options;
  const notice = noticesTo(io.stderr);
  const log = (fields: Record<string, unknown>) => io.stderr.write(`${JSON.stringify({ time: deps.now().toISOString(), ...fields })}\n`);
  const quiet = options.fireOptions.quiet ?? false;
  const places = definitionPlaces(options.defs, deps.cwd());
  lowerPriority(options.nice, notice);

  let served: Served;
  let store: Store;
  const keeper = new DefinitionKeeper();
  const report = (s: Served) => reportBroken(s, io, options.style, notice);
  try {
    const first = await options.loadDefinitions(options.defs);
    served = await keeper.take(first.files, first.checked);
    report(served);
    // What the fire core loads on the first match, loaded now: the first deliveries must not wait behind it.
    await Promise.all([import('../../plan/matched.js'), import('../../execute/execute.js'), import('../../fire/record.js')]);
    store = await options.openStore();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    port.postMessage({ kind: 'failed', message, usage: error instanceof UsageError });
    return;
  }
  // The fire core closes the store it opened after each fire; this one is shared.
  const shared: Store = Object.create(store, { close: { value: () => {} } }) as Store;

  const stop = new AbortController();
  let stopping: NodeJS.Signals | undefined;
  let stoppedRuns = false;
  const fires = new Set<Promise<void>>();
  let idle: (() => void) | undefined;
  /** A task a stop waits for: a delivery's fire, a resumed run, a decision's run. */
  const track = (task: Promise<void>) => {
    const done = task.finally(() => {
      fires.delete(done);
      if (!fires.size) idle?.();
    });
    fires.add(done);
  };
  const logError = (kind: string) => (error: unknown) =>
    log({ kind, status: 'error', error: oneLine(error instanceof Error ? error.message : String(error)) });

  const fireDeps = (): ResumeDeps => ({
    ...deps,
    openStore: () => Promise.resolve(shared),
    loadDefinitions: () => Promise.resolve(served.checked),
    runOutput: io.stdout,
    runStyle: options.style,
    stop: stop.signal,
    ignoreSignals: true,
  });

  // ---------------------------------------------------------------------------
  // The pool: deliveries taken from the store, oldest first.

  /** Deliveries fetched from the store and not started yet, oldest first. */
  const buffer: UndispatchedEvent[] = [];
  /** The seq of the last one fetched: a fetch looks past it (one whose fire failed stays behind it, for the next start). */
  let cursor = 0;
  let running = 0;

  // Counts for the receiving thread, told once a turn rather than once a delivery.
  const progress = { started: 0, finished: 0 };
  const tell = () => {
    if (progress.started || progress.finished) port.postMessage({ kind: 'progress', ...progress });
    progress.started = progress.finished = 0;
  };
  const count = (what: keyof typeof progress) => {
    if (!progress.started && !progress.finished) setImmediate(tell);
    progress[what]++;
  };

  const fireOne = async (event: StoredEvent): Promise<void> => {
    const started = performance.now();
    const route = typeof event.details.route === 'string' ? event.details.route : 'resumed';
    const item = { route, delivery: event.deliveryKey ?? event.id, event: event.name, eventId: event.id };
    try {
      const checked = served.checked;
      const outcome = await fire(
        {
          event: event.name,
          payload: (event.payload ?? {}) as Record<string, unknown>,
          definitions: checked,
          source: 'http',
          deliveryKey: event.deliveryKey ?? event.id,
          admitted: { eventId: event.id },
          places,
          receivedAt: event.at,
          options: options.fireOptions,
        },
        {
          ...fireDeps(),
          loadDefinitions: () => Promise.resolve(checked),
          onPlanned: (planned) => {
            if (!quiet) for (const warning of planned.warnings) notice(`warning: ${planned.mask(warning)}`);
          },
        },
      );
      logRuns(item, outcome, performance.now() - started);
    } catch (error) {
      // The event stays undispatched in the store: the next start tries it again.
      const message = error instanceof Error ? error.message : String(error);
      log({
        kind: 'fire',
        ...item,
        status: 'error',
        error: oneLine(error instanceof UsageError || error instanceof StoreBusyError ? message : `internal error: ${message}`),
      });
    }
  };
  const logRuns = (item: Record<string, string>, outcome: FireOutcome, ms: number) => {
    const all = [outcome, ...(outcome.chained ?? [])];
    const runs = all.flatMap((o) => o.definitions.filter((d) => d.run).map((d) => ({ definition: d.decision.name, run: d.run! })));
    for (const { definition, run } of runs) {
      log({
        kind: 'run',
        ...item,
        run: run.id,
        definition,
        status: run.status,
        durationMs: run.durationMs,
        ...(run.reason ? { reason: outcome.mask(oneLine(run.reason)) } : {}),
      });
    }
    log({
      kind: 'fired',
      ...item,
      matched: outcome.definitions.filter((d) => d.decision.matched).length,
      runs: runs.map((r) => r.run.id),
      durationMs: Math.round(ms),
    });
  };

  const start = (event: StoredEvent) => {
    running++;
    count('started');
    track(
      fireOne(event).then(() => {
        running--;
        count('finished');
        pump();
      }),
    );
  };

  let pumping = false;
  let wanted = false;
  /** Starts deliveries while the pool has room; a call while it looks is remembered, not lost. */
  const pump = () => {
    if (pumping) {
      wanted = true;
      return;
    }
    pumping = true;
    pumpNow()
      .catch(logError('store'))
      .finally(() => {
        pumping = false;
        if (wanted && !stopping) pump();
      });
  };
  const pumpNow = async () => {
    do {
      wanted = false;
      while (!stopping && running < options.concurrency) {
        if (!buffer.length) {
          buffer.push(...(await store.listUndispatched({ source: 'http', after: cursor, limit: FETCH })));
          if (!buffer.length) break;
          cursor = buffer[buffer.length - 1]!.seq;
        }
        start(buffer.shift()!);
      }
    } while (wanted && !stopping);
  };

  // ---------------------------------------------------------------------------
  // Suspended runs: retries come due, and decisions made on the page or through a link.

  const logCarried = (outcome: Pick<ResumeOutcome, 'resumed' | 'expired'>) => {
    for (const { gate, action } of outcome.expired) log({ kind: 'gate', gate: gate.id, run: gate.runId, timedOut: action });
    for (const { claimed, run } of outcome.resumed) {
      log({
        kind: 'resumed',
        run: run.id,
        definition: claimed.run.definition,
        eventId: claimed.run.eventId,
        status: run.status,
        durationMs: run.durationMs,
      });
    }
  };

  // One look at a time; a look counts as a fire, so a stop waits for what it resumed.
  let resuming = false;
  const resumeTimer = setInterval(() => {
    if (stopping || resuming || !resumeHinted(stateDir(deps.env))) return;
    resuming = true;
    track(
      import('../../fire/resume.js')
        .then(async ({ resumeRuns }) => logCarried(await resumeRuns({ quiet }, fireDeps())))
        .catch(logError('resume'))
        .finally(() => (resuming = false)),
    );
  }, RESUME_POLL_MS);

  const decide = (id: number, request: PageDecision) => {
    if (stopping) return port.postMessage({ kind: 'decided', id, outcome: 'stopping' });
    let told = false;
    track(
      import('../../fire/approvals.js')
        .then(({ decideApproval }) =>
          decideApproval(
            {
              ...request,
              onDecided: (outcome) => {
                told = true;
                port.postMessage({ kind: 'decided', id, outcome });
              },
            },
            fireDeps(),
          ),
        )
        .then(logCarried, (error: unknown) => {
          if (told) return logError('decision')(error);
          port.postMessage({
            kind: 'decide-failed',
            id,
            message: error instanceof Error ? error.message : String(error),
            usage: error instanceof UsageError,
          });
        }),
    );
  };

  const carry = (claimed: ClaimedRun) => {
    if (stopping) return;
    track(
      import('../../fire/resume.js')
        .then(async ({ carryOn }) =>
          logCarried({ resumed: (await carryOn([claimed], shared, { quiet }, fireDeps())).resumed, expired: [] }),
        )
        .catch(logError('decision')),
    );
  };

  // ---------------------------------------------------------------------------
  // Reloads of the definitions, one after another.

  const roots = await definitionRoots(options.defs, deps.cwd());
  let reloadTimer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> = Promise.resolve();
  const reload = async () => {
    try {
      const { files, checked } = await options.loadDefinitions(options.defs);
      served = await keeper.take(files, checked);
      report(served);
      notice(`definitions reloaded: ${plural(served.checked.definitions.length, 'definition')}`);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      notice(`${oneLine(error.message)}; the definitions loaded before keep serving`);
    }
  };
  const watcher: FSWatcher = chokidarWatch(roots, { ignoreInitial: true });
  watcher.on('all', (event: string) => {
    if (stopping || event === 'addDir' || event === 'unlinkDir') return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloading = reloading.then(reload).catch((error: unknown) => notice(`reload failed: ${oneLine(String(error))}`));
    }, RELOAD_DEBOUNCE_MS);
  });
  watcher.on('error', (error: unknown) => notice(`watcher: ${oneLine(error instanceof Error ? error.message : String(error))}`));

  // ---------------------------------------------------------------------------
  // Stopping: nothing more is taken; the runs have the grace period, then are stopped.

  let graceTimer: NodeJS.Timeout | undefined;
  const finish = async () => {
    clearTimeout(graceTimer);
    clearTimeout(reloadTimer);
    clearInterval(resumeTimer);
    port.off('message', onMessage);
    await watcher.close();
    await reloading;
    store.close();
    port.postMessage({ kind: 'stopped', stoppedRuns });
  };
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = signal;
    graceTimer = setTimeout(() => {
      if (!fires.size) return;
      notice(`the grace period is over: stopping the runs`);
      stoppedRuns = true;
      stop.abort(signal);
    }, options.graceMs);
    if (!fires.size) void finish();
    else idle = () => void finish();
  };

  const onMessage = (message: ToRunner) => {
    switch (message.kind) {
      case 'admitted':
        return pump();
      case 'decide':
        return decide(message.id, message.request);
      case 'carry':
        return carry(message.claimed);
      case 'stop':
        return onStop(message.signal);
      case 'abort':
        stoppedRuns = true;
        return stop.abort(message.signal);
      default:
        return exhaustive(message);
    }
  };
  port.on('message', onMessage);

  port.postMessage({ kind: 'ready', definitions: served.checked.definitions.length, waiting: await store.countUndispatched('http') });
  pump();
}

function exhaustive(message: never): never {
  throw new Error(`unknown message ${JSON.stringify(message)}`);
}

/**
 * Receiving comes first: an answer waits for nothing but its commit, while a run can wait
 * its turn in the store. On two busy cores the scheduler shares time equally between
 * threads, and the run thread (each spawn copies the process's page tables) and the steps
 * it starts then push the receiving thread's answers late; `--nice` lowers the priority of
 * this thread alone (on Linux a thread's nice value is its own) and so of every process it
 * starts, which inherit it.
 */
function lowerPriority(by: number, notice: (message: string) => void): void {
  if (by === 0) return;
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + by));
  } catch (error) {
    notice(`cannot lower the runs' priority (--nice ${by}): ${oneLine(error instanceof Error ? error.message : String(error))}`);
  }
}
