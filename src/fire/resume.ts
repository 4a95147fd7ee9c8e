// Resuming suspended runs: a run whose step waits for its next attempt (on-failure retry)
// is kept in the store at a resume point (store.ts, guarantee 9), so that the wait survives
// the process that started it. The cron tick and `trig resume` take over such runs once
// they are due and their owner is gone (it handed the run over, or died): each is claimed
// atomically (one taker, whatever races), planned again from the snapshot it keeps (the
// definition's document as it was loaded, the trigger fields, the --input values; secrets
// are read again from this process's TRIG_SECRET_* variables), and carried on from its
// step with the next attempt, as the same run: its log and steps go on, and when it ends
// the events its end fires (workflow_run, pipeline_failed) are fired once, here.
// A run at an approval gate goes on the same way, after its gate is approved (gates.ts);
// every look here also enforces the timeouts of the gates past their deadline.

import { existsSync } from 'node:fs';
import type { AttemptResult, RunResult, RunSuspension, StepResult } from '../execute/run.js';
import { describeDefinition } from '../load/definition.js';
import type { MatchedDecision } from '../match/decide.js';
import { UsageError } from '../shared/errors.js';
import { createMasker } from '../shared/mask.js';
import { PLAIN_STYLE } from '../shared/style.js';
import type { ClaimedRun, ResumableRun, ResumePoint, Store } from '../store/store.js';
import { FIRE_DEFAULTS } from './defaults.js';
import { fireChained, type FireDeps, type FireOptions, type FireOutcome } from './fire.js';
import { expireGates, retryNotifications, type ExpiredGate } from './gates.js';
import { ownerAlive, RecordingObserver, thisProcess } from './record.js';

export interface ResumeRequest {
  /** Only this run (a unique start of its id); it must be suspended. */
  runId?: string;
  /** Only failures are said (the cron tick). */
  quiet?: boolean;
}

export interface ResumeDeps extends FireDeps {
  openStore(): Promise<Store>;
  /** Told of each run about to be resumed, before its output. */
  onResume?(run: ClaimedRun): void;
}

export interface ResumedRun {
  claimed: ClaimedRun;
  run: RunResult;
  /** The fires of the events the run's end fired. */
  chained: FireOutcome[];
}

/** A suspended run left alone, and why. */
export interface LeftRun {
  run: ResumableRun;
  why: 'not-due' | 'owner-waits';
}

export interface ResumeOutcome {
  resumed: ResumedRun[];
  left: LeftRun[];
  /** Gates past their deadline that took their timeout-action (an approved one's run is among `resumed`). */
  expired: ExpiredGate[];
  /** A resumed run (or a chained one) did not succeed. */
  failed: boolean;
  signal?: NodeJS.Signals;
}

const OK: readonly string[] = ['succeeded', 'skipped', 'cancelled', 'retrying', 'awaiting_approval'];

/** Whether the process that suspended a run is gone (it handed the run over, or died); another host's cannot be told. */
function ownerGone(run: ResumableRun): boolean {
  if (run.owner === null) return true;
  return run.owner.host === thisProcess().host && !ownerAlive(run.owner);
}

/** Takes over the due suspended runs whose owner is gone, and carries each on to its end. */
export async function resumeRuns(request: ResumeRequest, deps: ResumeDeps): Promise<ResumeOutcome> {
  const store = await deps.openStore();
  try {
    const now = deps.now();
    // Runs whose gate approved on its timeout are claimed here: they are carried on whatever else is asked.
    const gates = await expireGates(store, now, thisProcess());
    await retryNotifications(store, deps.env, now);
    let suspended = await store.resumableRuns();
    if (request.runId !== undefined) {
      const found = await store.findRun(request.runId);
      if ('missing' in found) throw new UsageError(found.missing);
      const run = found.found;
      suspended = suspended.filter((s) => s.id === run.id);
      if (run.status === 'awaiting_approval')
        throw new UsageError(
          `run ${run.id} waits at a gate: only a decision carries it on (trig approve, or trig intervene; trig approvals lists its gate)`,
        );
      if (!suspended.length && !gates.claimed.some((c) => c.run.id === run.id))
        throw new UsageError(`run ${run.id} is not waiting to be resumed (it is ${run.status})`);
    }
    const left: LeftRun[] = [];
    const claimed: ClaimedRun[] = [...gates.claimed];
    for (const run of suspended) {
      if (run.resumeAt > now) left.push({ run, why: 'not-due' });
      else if (!ownerGone(run)) left.push({ run, why: 'owner-waits' });
      else {
        const claim = await store.claimResume(run.id, { owner: thisProcess(), from: run.owner, dueBy: now });
        // Another resumer got it first (or its owner took it back): it is theirs.
        if (claim) claimed.push(claim);
      }
    }
    return { ...(await carryOn(claimed, store, request, deps)), left, expired: gates.expired };
  } finally {
    store.close();
  }
}

/** Carries claimed runs on to their end (a resumed retry, an approved gate). */
export async function carryOn(
  claimed: readonly ClaimedRun[],
  store: Store,
  request: ResumeRequest,
  deps: ResumeDeps,
): Promise<Pick<ResumeOutcome, 'resumed' | 'failed' | 'signal'>> {
  if (!claimed.length) return { resumed: [], failed: false };
  // Loaded only now: a tick that finds nothing due never loads planning or running.
  const resumed = await Promise.all(claimed.map((claim) => resumeOne(claim, store, request, deps)));
  // Looked at again, so that the hint file goes when nothing waits any more.
  await store.resumableRuns();
  const signal = resumed.map((r) => r.signal).find(Boolean);
  return {
    resumed: resumed.map(({ signal: _signal, ...r }) => r),
    failed: resumed.some((r) => !OK.includes(r.run.status) || r.chained.some((c) => c.runsFailed)),
    ...(signal ? { signal } : {}),
  };
}

/** The store's resume point as the executor takes it (its records were written from the executor's results). */
function suspensionOf(resume: ResumePoint): Omit<RunSuspension, 'at'> {
  return {
    stage: resume.stage,
    path: resume.path,
    step: resume.step,
    attempt: resume.attempt,
    attempts: resume.attempts as AttemptResult[],
    steps: resume.steps as StepResult[],
    ...(resume.kind === 'approval' ? { approved: resume.approved ?? 'approved' } : {}),
    ...(resume.decision ? { decision: resume.decision } : {}),
    ...(resume.round ? { round: resume.round } : {}),
    ...(resume.retryPolicy ? { retryPolicy: resume.retryPolicy } : {}),
  };
}

async function resumeOne(
  claimed: ClaimedRun,
  store: Store,
  request: ResumeRequest,
  deps: ResumeDeps,
): Promise<ResumedRun & { signal?: NodeJS.Signals }> {
  const { run, resume, snapshot } = claimed;
  const event = await store.findEvent(run.eventId);
  const payload = 'found' in event ? event.found.payload : {};
  const places = 'found' in event ? event.found.places : [];
  const { planRun } = await import('../plan/plan.js');
  const { executeRuns } = await import('../execute/execute.js');
  const document = describeDefinition(run.file, snapshot.index, run.definition, snapshot.document);
  const trigger = { ...snapshot.trigger, payload };
  const planned = planRun(document, trigger, {
    inputs: snapshot.inputs,
    env: deps.env,
    workdir: snapshot.workdir,
    containerRuntime: snapshot.containerRuntime,
  });
  if ('stop' in planned) {
    const reason = `cannot resume: ${planned.stop}`;
    const steps = resume.steps as StepResult[];
    await store.finishRun(run.id, { status: 'failed', exitCode: null, reason, steps });
    return { claimed, run: { id: run.id, status: 'failed', exitCode: null, durationMs: 0, reason, steps }, chained: [] };
  }
  deps.onResume?.(claimed);
  const quiet = Boolean(request.quiet) || snapshot.quiet;
  const executed = await executeRuns(
    [
      {
        id: run.id,
        definition: run.definition,
        event: snapshot.event,
        trigger,
        plan: planned.plan,
        resume: suspensionOf(resume),
        startedAt: (run.startedAt ?? run.queuedAt).getTime(),
      },
    ],
    {
      concurrency: 1,
      timeoutMs: snapshot.timeoutMs,
      workdir: snapshot.workdir,
      env: deps.env,
      payload,
      write: (text) => deps.runOutput.write(text),
      ...(deps.runOutput.backlog ? { backlog: () => deps.runOutput.backlog!() } : {}),
      style: deps.runStyle ?? PLAIN_STYLE,
      mask: createMasker(planned.plan.secrets),
      quiet,
      observer: new RecordingObserver(store, [run.id], [snapshot], true, deps.env),
      ...(deps.stop ? { stop: deps.stop } : {}),
      // trig serve stops its runs itself, after --grace (deps.stop), as the fire core's runs.
      ...(deps.ignoreSignals ? { ignoreSignals: true } : {}),
    },
  );
  const result = executed.runs[0]!;
  if (executed.signal) return { claimed, run: result, chained: [], signal: executed.signal };

  // The run's end fires its events once, against the definitions of its event's places.
  const existing = places.filter((place) => existsSync(place));
  if (!existing.length) return { claimed, run: result, chained: [] };
  const checked = await deps.loadDefinitions(existing);
  const decision: MatchedDecision = {
    file: run.file,
    name: run.definition,
    valid: true,
    matched: true,
    event: snapshot.event,
    reason: 'resumed',
    trigger,
    definition: { file: run.file, index: snapshot.index, name: run.definition, entries: [], diagnostics: [] },
  };
  const options: FireOptions = {
    dryRun: false,
    strict: false,
    concurrency: FIRE_DEFAULTS.concurrency,
    ...(snapshot.timeoutMs !== undefined ? { timeoutMs: snapshot.timeoutMs } : {}),
    workdir: snapshot.workdir,
    containerRuntime: snapshot.containerRuntime,
    quiet,
    chainDepth: snapshot.chainDepth,
  };
  const chained = await fireChained(
    [{ decision, run: result }],
    { eventId: run.eventId, chain: run.chain },
    checked,
    options,
    places,
    deps,
  );
  return { claimed, run: result, chained };
}
