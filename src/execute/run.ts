import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FailurePolicy, InterventionPolicy, PlannedApproval, PlanStage, PlanStep, RetryPolicy, RunPlan } from '../plan/plan.js';
import type { InterventionDecision } from '../shared/retry.js';
import { SECRET_PREFIX } from '../plan/secrets.js';
import { evaluateCondition } from '../resolve/condition.js';
import type { ResolveScope } from '../resolve/expressions.js';
import { formatDuration, parseDuration } from '../shared/duration.js';
import { DEFINITION_GATE } from '../shared/approval.js';
import type { RunOutput, StepOutput } from './output.js';
import { findProgram } from '../shared/programs.js';
import { runChild, type ChildResult, type StopReason } from './process.js';

/**
 * `blocked`: the run reached an approval it cannot wait at (not recorded in the store, or
 * inside a parallel block); nothing after it ran.
 * `retrying`: a step waits for its next attempt, and this process handed the run over to
 * whoever resumes it (the store keeps where it stopped); the run is not over.
 * `awaiting_approval`: the run waits at a gate for a decision (trig approve), kept in the
 * store; the run is not over. `rejected`: a gate was rejected (or timed out so).
 */
export type RunStatus =
  'succeeded' | 'failed' | 'timed_out' | 'skipped' | 'blocked' | 'cancelled' | 'retrying' | 'awaiting_approval' | 'rejected';
export type StepStatus = RunStatus;

export interface StepResult {
  stage: string;
  /** The step's name, `group/step` inside groups; null for what concerns the whole stage. */
  name: string | null;
  status: StepStatus;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
  /** Every try, first to last, when the step was retried (on-failure action retry). */
  attempts?: AttemptResult[];
}

/** One try of a retried step. */
export interface AttemptResult {
  attempt: number;
  status: StepStatus;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
}

export interface RunResult {
  id: string;
  status: RunStatus;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
  steps: StepResult[];
}

/** A wait longer than this before a retry is not sat out by the process: it hands the run over (see RunContext.suspend). */
export const HAND_OVER_AFTER_MS = 60_000;

/**
 * Where a run stops to wait for a step's next attempt, or at an approval gate, and what it
 * needs to go on from there.
 */
export interface RunSuspension {
  /** The stage's index in the plan (-1: the definition's own gate, before its first stage). */
  stage: number;
  /** The step's indexes: in the stage's steps, then in each group's steps. */
  path: number[];
  /** The step's name (`group/step`). */
  step: string;
  /** The attempt to run next. */
  attempt: number;
  attempts: AttemptResult[];
  /** The results of the stages and steps before the step, in order. */
  steps: StepResult[];
  /** When the next attempt is due; at a gate, its deadline. */
  at: Date;
  /** At an approval gate: its settings, the message masked. */
  approval?: PlannedApproval;
  /** At a manual intervention: its settings, and the step's failure (masked) as the gate's message. */
  intervention?: InterventionPolicy & { message: string };
  /** Resuming after a gate: who decided it (`approved by alice, bob`), the gate's result's reason. */
  approved?: string;
  /** Resuming after a manual intervention: what was decided (ignore: the run goes on; retry: the step runs again; abort: it ends failed). */
  decision?: InterventionDecision;
  /** The attempts before the current round of retries (a person's retry starts a round). */
  round?: number;
  /** The retry settings of the current round when they are not the step's own (a timeout-action's). */
  retryPolicy?: RetryPolicy;
}

/** Where a step's retries start from: its tries so far, whether the wait before the next is done, and the round. */
interface RetryRound {
  attempts: readonly AttemptResult[];
  waited: boolean;
  round: number;
  policy?: RetryPolicy;
}

/** Keeps a run's waiting retries where they survive this process (the store). */
export interface RunSuspender {
  /**
   * The run waits at this point: `entry` is the step as it stands (status retrying, its
   * attempts so far). With `handOver`, this process does not wait: the run is left for
   * whoever resumes it after `point.at`; else this process waits and then calls reclaim.
   * At an approval gate (point.approval), resolves with the gate's id.
   */
  suspend(point: RunSuspension, entry: StepResult, handOver: boolean): Promise<string | void>;
  /** After the wait: the run is this process's again, or `lost` says why not (its concurrency group cancelled it meanwhile). */
  reclaim(): Promise<{ lost?: string }>;
}

export interface RunContext {
  /** The run's id (TRIG_RUN_ID). */
  id: string;
  definition: string;
  /** The event that matched the definition (for comment_mention, the derived one). */
  event: string;
  trigger: Record<string, unknown>;
  payload: unknown;
  workdir: string;
  env: NodeJS.ProcessEnv;
  output: RunOutput;
  /** Bounds the whole run; the definition's own `timeout` may shorten it. */
  timeoutMs?: number;
  /** Aborted with a StopReason when trig itself is stopped. */
  stop?: AbortSignal;
  graceMs?: number;
  track?: { add(pgid: number): void; delete(pgid: number): void };
  /** Makes waiting retries durable, and lets a run wait at a gate; without it retries wait in this process only, and gates block. */
  suspender?: RunSuspender;
  /** Masks secrets out of text kept beyond the output (a gate's message). */
  mask?: (text: string) => string;
  /** Goes on from a suspension (trig resume): the step's next attempt, then the rest of the run. */
  resume?: Omit<RunSuspension, 'at'>;
  /** When the run started (epoch ms), for a resumed run: its duration and timeout count from then. */
  startedAt?: number;
}

/** How one step (or group) ended; no `failure` when it succeeded or its failure is ignored. */
interface Outcome {
  results: StepResult[];
  failure?: StepResult;
  /** The step that waits for its next attempt, the run handed over: nothing after it runs here. */
  handedOver?: StepResult;
}

const now = () => performance.now();

function stopText(reason: StopReason): string {
  if (reason.kind === 'timeout') return `the run timed out after ${formatDuration(reason.after)}`;
  if (reason.kind === 'cancel') return reason.reason;
  return `trig received ${reason.signal}`;
}

/** Whether the policy covers this failure (its errors and exit codes). */
function covers(policy: FailurePolicy | undefined, failure: StepResult): policy is FailurePolicy {
  // An approval is not an error to tolerate: going on would run what nobody approved.
  if (!policy || failure.status === 'blocked') return false;
  const type = failure.status === 'timed_out' ? 'timeout' : 'unknown';
  if (!policy.errors.some((e) => e === 'all' || e === 'any' || e === type)) return false;
  return !policy.exitCodes || (failure.exitCode !== null && policy.exitCodes.includes(String(failure.exitCode)));
}

/** The on-failure action that lets the run go on, if the policy covers this failure. */
function ignoredBy(policy: FailurePolicy | undefined, failure: StepResult): string | undefined {
  if (!covers(policy, failure)) return undefined;
  return policy.action === 'ignore' || policy.action === 'success' ? policy.action : undefined;
}

/** Waits, or less when the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const isFailure = (entry: StepResult): boolean => entry.status === 'failed' || entry.status === 'timed_out';

function attemptOf(entry: StepResult, attempt: number): AttemptResult {
  return {
    attempt,
    status: entry.status,
    exitCode: entry.exitCode,
    durationMs: entry.durationMs,
    ...(entry.reason ? { reason: entry.reason } : {}),
  };
}

/** Why the steps or stages after a failure are not run. */
function notRunBecause(failure: StepResult, what: 'step' | 'stage'): string {
  return failure.status === 'blocked' ? 'the run is blocked at an approval' : `an earlier ${what} failed`;
}

function describeExit(result: ChildResult): string {
  if (result.signal) return `killed by ${result.signal}`;
  return `exited with code ${result.exitCode}`;
}

class Runner {
  readonly scope: ResolveScope;
  private readonly controller = new AbortController();
  /** The results so far at each level being run (the run's, the stage's, each group's), for a suspension. */
  private readonly trail: StepResult[][] = [];
  /** The indexes of the stage and steps being run, at the same levels. */
  private readonly at: number[] = [];
  /** Inside a parallel block, branches run at once: a retry there waits in this process only. */
  private parallel = 0;
  /** A person aborted the run at a manual intervention: no on-failure lets its failure go. */
  private abortedByPerson = false;
  private readonly baseEnv: Record<string, string> = {};
  private readonly trigEnv: Record<string, string>;

  constructor(
    private readonly plan: RunPlan,
    private readonly ctx: RunContext,
    readonly id: string,
    payloadFile: string,
  ) {
    this.scope = { trigger: ctx.trigger, inputs: plan.inputs };
    // Secrets in trig's environment reach only the definitions that declare them.
    const declared = new Set(plan.secretVariables);
    for (const [key, value] of Object.entries(ctx.env)) {
      if (value !== undefined && (!key.startsWith(SECRET_PREFIX) || declared.has(key))) this.baseEnv[key] = value;
    }
    this.trigEnv = { TRIG_EVENT: ctx.event, TRIG_DEFINITION: ctx.definition, TRIG_RUN_ID: id, TRIG_PAYLOAD: payloadFile };
  }

  get stop(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: StopReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private condition(text: string | undefined): { run: true } | { run: false; status: StepStatus; reason: string } {
    if (text === undefined) return { run: true };
    const result = evaluateCondition(text, this.scope);
    if ('error' in result) return { run: false, status: 'failed', reason: `if: ${result.error}` };
    return result.value ? { run: true } : { run: false, status: 'skipped', reason: `if: false (${text})` };
  }

  private async leaf(step: PlanStep, stage: string, name: string, out: StepOutput): Promise<StepResult> {
    const started = now();
    const result = (status: StepStatus, exitCode: number | null, reason?: string): StepResult => ({
      stage,
      name,
      status,
      exitCode,
      durationMs: Math.round(now() - started),
      ...(reason ? { reason } : {}),
    });
    if (step.kind === 'skipped') return result('skipped', null, step.reason ?? 'trig does not run this kind of step');
    if (step.kind === 'approval') return result('blocked', null, this.cannotWait());
    const command = step.command ?? [];
    const env = { ...this.baseEnv, ...step.env, ...this.trigEnv };
    const program = command[0];
    if (!program) return result('failed', null, 'the step has no command');
    if (!findProgram(program, env, this.ctx.workdir)) {
      const hint = step.kind === 'container' ? ' (container steps need a container engine; see --container-runtime)' : '';
      return result('failed', null, `${program}: not found on PATH${hint}`);
    }
    let timeoutMs: number | undefined;
    if (step.timeout !== undefined) {
      timeoutMs = parseDuration(step.timeout);
      if (timeoutMs === undefined) return result('failed', null, `timeout "${step.timeout}" is not a duration such as 90s or 10m`);
    }
    const child = await runChild({
      command,
      env,
      cwd: this.ctx.workdir,
      output: () => out.stream(),
      timeoutMs,
      stop: this.stop,
      graceMs: this.ctx.graceMs,
      track: this.ctx.track,
    });
    if (child.error) return result('failed', null, child.error);
    if (child.stopped?.kind === 'timeout') {
      return result(
        'timed_out',
        child.exitCode,
        child.stopped.own ? `timed out after ${formatDuration(child.stopped.after)} (the step's timeout)` : stopText(child.stopped),
      );
    }
    if (child.stopped) return result('failed', child.exitCode, `stopped: ${stopText(child.stopped)}`);
    if (child.exitCode === 0 && !child.signal) return result('succeeded', 0);
    return result('failed', child.exitCode, describeExit(child));
  }

  /** Whether a failure may be let go: never when trig itself is stopping the run. */
  private ignoring(policy: FailurePolicy | undefined, failure: StepResult): string | undefined {
    return this.stop.aborted || this.abortedByPerson ? undefined : ignoredBy(policy, failure);
  }

  /**
   * Runs a failed leaf step again while the nearest on-failure that covers its failure (its
   * own, then its groups', then its stage's) says retry; then the retry's failure-action
   * decides. Each try's output goes to the step's log, with a note between tries. With a
   * suspender, each wait is recorded where it survives this process; a wait longer than
   * HAND_OVER_AFTER_MS, or a SIGTERM or SIGHUP during one, hands the run over. A covering
   * `manual-intervention` (or a retry's failure-action that says so) hands the run over to
   * a person (intervene). `from`: where an earlier process left the step (trig resume, a
   * person's decision to retry).
   */
  private async retried(
    first: StepResult,
    base: { stage: string; name: string },
    run: () => Promise<StepResult>,
    policies: readonly (FailurePolicy | undefined)[],
    out: StepOutput,
    from: RetryRound = { attempts: [attemptOf(first, 1)], waited: false, round: 0 },
  ): Promise<{ entry: StepResult; ignored?: true; handedOver?: true }> {
    let entry = first;
    const attempts = [...from.attempts];
    let waited = from.waited;
    // Only the first try of a step that was never retried has no attempts to show.
    const withAttempts = (result: StepResult): StepResult => (attempts.length > 1 || from.round > 0 ? { ...result, attempts } : result);
    if (!isFailure(entry) || this.stop.aborted) return { entry: withAttempts(entry) };
    const covering = from.policy ? undefined : policies.find((policy) => covers(policy, entry));
    if (covering?.action === 'manual-intervention') return this.intervene(entry, attempts, base, from.round, covering.intervention, out);
    const retry = from.policy ?? covering?.retry;
    if (!retry) return { entry: withAttempts(entry) };
    // A person's decision to retry starts a round of its own: its tries count from there.
    const tried = () => attempts.length - from.round;
    const tries = retry.attempts + 1;
    if (waited) out.note(`resumed: attempt ${tried() + 1} of ${tries}`);
    while (isFailure(entry) && tried() < tries && !this.stop.aborted) {
      if (!waited) {
        const wait = retry.intervalsMs[Math.min(tried() - 1, retry.intervalsMs.length - 1)]!;
        const failed = `attempt ${tried()} of ${tries} ${entry.status.replace('_', ' ')}: ${entry.reason ?? entry.status}`;
        out.note(`${failed}; retrying in ${formatDuration(wait)}`);
        const suspender = this.parallel === 0 ? this.ctx.suspender : undefined;
        if (suspender) {
          const at = new Date(Date.now() + wait);
          const point: RunSuspension = {
            ...this.where(base.name),
            attempt: attempts.length + 1,
            attempts: [...attempts],
            at,
            ...(from.round ? { round: from.round } : {}),
            ...(from.policy ? { retryPolicy: from.policy } : {}),
          };
          const waiting: StepResult = { ...entry, status: 'retrying', reason: `${failed}; next attempt at ${at.toISOString()}`, attempts };
          const handOver = async () => {
            await suspender.suspend(point, waiting, true);
            out.note(
              `waiting for attempt ${tried() + 1} of ${tries} at ${at.toISOString()}: the next trig fire --cron tick or trig resume runs it`,
            );
            return { entry: waiting, handedOver: true as const };
          };
          if (wait > HAND_OVER_AFTER_MS) return handOver();
          await suspender.suspend(point, waiting, false);
          await pause(wait, this.stop);
          // A shutdown (SIGTERM) or a closed terminal (SIGHUP) leaves the retry waiting in the
          // store; Ctrl-C and the run's timeout end the run here, as before.
          const reason = this.stop.reason as StopReason | undefined;
          if (reason?.kind === 'signal' && reason.signal !== 'SIGINT') return handOver();
          const back = await suspender.reclaim();
          if (back.lost !== undefined) {
            this.abort({ kind: 'cancel', reason: back.lost });
            break;
          }
        } else await pause(wait, this.stop);
        if (this.stop.aborted) break;
      }
      waited = false;
      entry = await run();
      attempts.push(attemptOf(entry, attempts.length + 1));
    }
    const result: StepResult = { ...entry, attempts };
    if (!isFailure(entry)) {
      out.note(`succeeded on attempt ${tried()} of ${tries}`);
      return { entry: result };
    }
    const after = `after ${tried()} ${tried() === 1 ? 'attempt' : 'attempts'}`;
    const why = entry.reason ?? entry.status;
    if (this.stop.aborted) return { entry: { ...result, reason: `${why} (${after})` } };
    const action = retry.failureAction;
    if (action === 'ignore' || action === 'success') {
      const reason = `${why} ${after}; ignored (retry failure-action: ${action})`;
      out.note(`${entry.status.replace('_', ' ')}: ${reason}`);
      return { entry: { ...result, reason }, ignored: true };
    }
    if (action === 'manual-intervention') {
      return this.intervene({ ...entry, reason: `${why} (${after})` }, attempts, base, from.round, retry.intervention, out);
    }
    return { entry: { ...result, reason: `${why} (${after})` } };
  }

  /** Where the run is (outside parallel blocks): the stage's and steps' indexes, the results so far. */
  private where(step: string): Pick<RunSuspension, 'stage' | 'path' | 'step' | 'steps'> {
    return { stage: this.at[0] ?? -1, path: this.at.slice(1), step, steps: this.trail.flat() };
  }

  /**
   * A failed step whose on-failure says manual-intervention: with a suspender (and outside
   * parallel blocks) the run is recorded as waiting at a gate for a person's decision
   * (retry, ignore, abort; trig intervene) and handed over; else it is blocked there.
   */
  private async intervene(
    failure: StepResult,
    attempts: AttemptResult[],
    base: { stage: string; name: string },
    round: number,
    settings: InterventionPolicy | undefined,
    out: StepOutput,
  ): Promise<{ entry: StepResult; handedOver?: true }> {
    const why = failure.reason ?? failure.status;
    const shown = attempts.length > 1 || round > 0 ? { attempts } : {};
    const suspender = this.parallel === 0 ? this.ctx.suspender : undefined;
    if (!suspender || !settings) {
      const cannot = this.parallel
        ? 'a manual intervention inside a parallel block cannot wait for a decision'
        : 'this run cannot wait for a decision (it is not recorded in the store)';
      return { entry: { ...failure, ...shown, status: 'blocked', reason: `${why}; ${cannot}: the run stops here` } };
    }
    const at = new Date(Date.now() + settings.timeoutMs);
    const mask = this.ctx.mask ?? ((text: string) => text);
    const point: RunSuspension = {
      ...this.where(base.name),
      attempt: attempts.length + 1,
      attempts: [...attempts],
      at,
      ...(round ? { round } : {}),
      intervention: { ...settings, message: mask(why) },
    };
    const entry: StepResult = { ...failure, ...shown, status: 'awaiting_approval' };
    const id = await suspender.suspend(point, entry, true);
    entry.reason = `${why}; awaiting manual intervention (gate ${id}) until ${at.toISOString()}`;
    out.failed(why);
    out.note(
      `awaiting manual intervention: trig intervene ${id} retry|ignore|abort; until ${at.toISOString()}, then ${settings.timeoutAction}`,
    );
    return { entry, handedOver: true };
  }

  /**
   * The run reaches an approval gate: with a suspender (and outside parallel blocks) the run
   * is recorded as waiting there and handed over, the gate's id said; else undefined (it blocks).
   */
  private async gate(settings: PlannedApproval | undefined, stage: string, name: string | null): Promise<StepResult | undefined> {
    const suspender = this.parallel === 0 ? this.ctx.suspender : undefined;
    if (!suspender || !settings) return undefined;
    const at = new Date(Date.now() + settings.timeoutMs);
    const mask = this.ctx.mask ?? ((text: string) => text);
    const approval = settings.message !== undefined ? { ...settings, message: mask(settings.message) } : settings;
    const point: RunSuspension = { ...this.where(name ?? stage), attempt: 0, attempts: [], at, approval };
    const entry: StepResult = { stage, name, status: 'awaiting_approval', exitCode: null, durationMs: 0 };
    const id = await suspender.suspend(point, entry, true);
    entry.reason = `awaiting approval (gate ${id}) until ${at.toISOString()}`;
    const note = name === null ? (line: string) => this.ctx.output.note(line) : (line: string) => this.ctx.output.step(name).note(line);
    note(`awaiting approval: trig approve ${id} (or trig reject ${id}); until ${at.toISOString()}, then ${approval.timeoutAction}`);
    if (approval.message !== undefined) note(`approval: ${approval.message}`);
    return entry;
  }

  /** Why an approval blocks the run instead of waiting for a decision. */
  private cannotWait(): string {
    return this.parallel
      ? 'an approval inside a parallel block cannot wait for a decision: the run stops here'
      : 'this run cannot wait for a decision (it is not recorded in the store): the run stops here';
  }

  /** The entry of a gate the run was resumed after: approved. */
  private approvedGate(stage: string, name: string | null): StepResult {
    const reason = this.ctx.resume?.approved ?? 'approved';
    if (name === null) this.ctx.output.note(reason);
    else this.ctx.output.step(name).note(reason);
    return { stage, name, status: 'succeeded', exitCode: null, durationMs: 0, reason };
  }

  /**
   * A leaf step's tries: from its first, or from where an earlier process left it (`resume`):
   * a retry's wait done, or a person's decision at a manual intervention (ignore: its
   * failure is let go; retry: it runs again, a new round of its on-failure; abort: its
   * failure ends the run, whatever on-failure says).
   */
  private async leafTries(
    run: () => Promise<StepResult>,
    base: { stage: string; name: string },
    policies: readonly (FailurePolicy | undefined)[],
    out: StepOutput,
    resume: Omit<RunSuspension, 'at'> | undefined,
  ): Promise<{ entry: StepResult; ignored?: true; handedOver?: true }> {
    if (!resume) return this.retried(await run(), base, run, policies, out);
    const attempts = resume.attempts;
    const last = attempts[attempts.length - 1]!;
    const lastEntry: StepResult = {
      ...base,
      status: last.status,
      exitCode: last.exitCode,
      durationMs: last.durationMs,
      ...(last.reason ? { reason: last.reason } : {}),
      ...(attempts.length > 1 ? { attempts: [...attempts] } : {}),
    };
    const policy = resume.retryPolicy ? { policy: resume.retryPolicy } : {};
    if (resume.decision === 'ignore' || resume.decision === 'abort') {
      const decided = resume.approved ?? resume.decision;
      if (resume.decision === 'abort') this.abortedByPerson = true;
      else out.note(decided);
      const reason = `${last.reason ?? last.status}; ${decided}`;
      return resume.decision === 'ignore' ? { entry: { ...lastEntry, reason }, ignored: true } : { entry: { ...lastEntry, reason } };
    }
    if (resume.decision === 'retry') {
      out.note(resume.approved ?? 'retried');
      const first = await run();
      const round = { attempts: [...attempts, attemptOf(first, attempts.length + 1)], waited: false, round: attempts.length, ...policy };
      return this.retried(first, base, run, policies, out, round);
    }
    return this.retried(lastEntry, base, run, policies, out, { attempts, waited: true, round: resume.round ?? 0, ...policy });
  }

  private async step(
    step: PlanStep,
    stage: string,
    prefix: string,
    inherited: readonly (FailurePolicy | undefined)[] = [],
    from?: readonly number[],
  ): Promise<Outcome> {
    const name = prefix + step.name;
    const out = this.ctx.output.step(name);
    const started = now();
    // A resumed step's `if:` was true when it first ran.
    const condition = from ? ({ run: true } as const) : this.condition(step.if);
    if (!condition.run) {
      const entry: StepResult = {
        stage,
        name,
        status: condition.status,
        exitCode: null,
        durationMs: Math.round(now() - started),
        reason: condition.reason,
      };
      if (condition.status === 'failed') out.failed(condition.reason);
      else out.note(`skipped: ${condition.reason}`);
      return { results: [entry], ...(condition.status === 'failed' ? { failure: entry } : {}) };
    }

    let outcome: Outcome;
    const policies = [step.onFailure, ...inherited];
    if (step.kind === 'group' || step.kind === 'parallel') {
      const nested = step.steps ?? [];
      if (step.kind === 'group') outcome = await this.sequence(nested, stage, `${name}/`, policies, from);
      else {
        this.parallel++;
        try {
          outcome = combine(await Promise.all(nested.map((s) => this.step(s, stage, `${name}/`, policies))));
        } finally {
          this.parallel--;
        }
      }
      if (outcome.handedOver) return outcome;
    } else if (step.kind === 'approval' && (from || !this.parallel)) {
      if (from) return { results: [this.approvedGate(stage, name)] };
      const waiting = await this.gate(step.approval, stage, name);
      if (waiting) return { results: [waiting], handedOver: waiting };
      outcome = { results: [await this.leaf(step, stage, name, out)] };
      outcome.failure = outcome.results[0];
    } else {
      const run = () => this.leaf(step, stage, name, out);
      const { entry, ignored, handedOver } = await this.leafTries(run, { stage, name }, policies, out, from ? this.ctx.resume : undefined);
      if (handedOver) return { results: [entry], handedOver: entry };
      outcome = { results: [entry] };
      if (!ignored && (entry.status === 'failed' || entry.status === 'timed_out' || entry.status === 'blocked')) outcome.failure = entry;
      else if (entry.status === 'skipped') out.note(`skipped: ${entry.reason}`);
    }
    if (outcome.failure) {
      const failure = outcome.failure;
      const action = this.ignoring(step.onFailure, failure);
      if (action) {
        failure.reason = `${failure.reason ?? failure.status}; ignored (on-failure action: ${action})`;
        delete outcome.failure;
      }
      // A group's steps have spoken for themselves already.
      if (failure.name === name) {
        if (action) out.note(`${failure.status.replace('_', ' ')}: ${failure.reason}`);
        else
          out.failed(
            failure.reason ?? failure.status,
            failure.status === 'timed_out' ? '' : failure.status === 'blocked' ? 'blocked:' : undefined,
          );
      }
    }
    return outcome;
  }

  /** Steps in order; `from`: resumed at the step of these indexes (the earlier ones ran before). */
  private async sequence(
    steps: readonly PlanStep[],
    stage: string,
    prefix: string,
    inherited: readonly (FailurePolicy | undefined)[],
    from?: readonly number[],
  ): Promise<Outcome> {
    const results: StepResult[] = [];
    let failure: StepResult | undefined;
    // Outside parallel blocks, where a suspension is taken, the results so far and the step's index are kept.
    const tracked = this.parallel === 0;
    if (tracked) this.trail.push(results);
    try {
      for (let i = from ? from[0]! : 0; i < steps.length; i++) {
        const step = steps[i]!;
        if (failure || this.stop.aborted) {
          const why = this.stop.aborted ? stopText(this.stop.reason as StopReason) : notRunBecause(failure!, 'step');
          results.push({ stage, name: prefix + step.name, status: 'skipped', exitCode: null, durationMs: 0, reason: `not run: ${why}` });
          continue;
        }
        if (tracked) this.at.push(i);
        const outcome = await this.step(step, stage, prefix, inherited, from && i === from[0] ? from.slice(1) : undefined);
        if (tracked) this.at.pop();
        results.push(...outcome.results);
        if (outcome.handedOver) return { results, handedOver: outcome.handedOver };
        failure = outcome.failure;
      }
    } finally {
      if (tracked) this.trail.pop();
    }
    return { results, ...(failure ? { failure } : {}) };
  }

  private async stage(stage: PlanStage, from?: readonly number[]): Promise<Outcome> {
    const entry = (status: StepStatus, reason: string): StepResult => ({
      stage: stage.name,
      name: null,
      status,
      exitCode: null,
      durationMs: 0,
      reason,
    });
    if (from && stage.approval) return { results: [this.approvedGate(stage.name, null)] };
    if (from) return this.stageSteps(stage, from);
    if (stage.approval) {
      const waiting = await this.gate(stage.gate, stage.name, null);
      if (waiting) return { results: [waiting], handedOver: waiting };
      const reason = this.cannotWait();
      this.ctx.output.failed(`stage ${stage.name}: ${reason}`, 'blocked:');
      const result = entry('blocked', reason);
      return { results: [result], failure: result };
    }
    if (stage.reason) {
      this.ctx.output.note(`stage ${stage.name} skipped: ${stage.reason}`);
      return { results: [entry('skipped', stage.reason)] };
    }
    const condition = this.condition(stage.if);
    if (!condition.run) {
      const result = entry(condition.status, condition.reason);
      if (condition.status === 'failed') this.ctx.output.failed(`stage ${stage.name}: ${condition.reason}`);
      else this.ctx.output.note(`stage ${stage.name} skipped: ${condition.reason}`);
      return { results: [result], ...(condition.status === 'failed' ? { failure: result } : {}) };
    }
    return this.stageSteps(stage);
  }

  private async stageSteps(stage: PlanStage, from?: readonly number[]): Promise<Outcome> {
    const outcome = await this.sequence(stage.steps, stage.name, '', [stage.onFailure], from);
    if (outcome.failure) {
      const action = this.ignoring(stage.onFailure, outcome.failure);
      if (action) {
        outcome.failure.reason = `${outcome.failure.reason ?? outcome.failure.status}; ignored by the stage (on-failure action: ${action})`;
        delete outcome.failure;
      }
    }
    return outcome;
  }

  async run(): Promise<Omit<RunResult, 'id' | 'durationMs'>> {
    const from = this.ctx.resume;
    // A resumed run's `if:` was true when it started.
    const condition = from ? ({ run: true } as const) : this.condition(this.plan.if);
    if (!condition.run) {
      return { status: condition.status, exitCode: null, reason: condition.reason, steps: [] };
    }
    if (from) {
      const problem = this.resumeProblem(from);
      if (problem) return { status: 'failed', exitCode: null, reason: `cannot resume: ${problem}`, steps: [...from.steps] };
    }
    const steps: StepResult[] = from ? [...from.steps] : [];
    let failure: StepResult | undefined;
    this.trail.push(steps);
    if (from?.stage === -1) steps.push(this.approvedGate(DEFINITION_GATE, null));
    else if (!from && this.plan.approval) {
      const waiting = await this.gate(this.plan.approval, DEFINITION_GATE, null);
      if (waiting) return { status: 'awaiting_approval', exitCode: null, reason: `approval: ${waiting.reason}`, steps: [waiting] };
      const reason = `approval: ${this.cannotWait()}`;
      this.ctx.output.failed(reason, 'blocked:');
      return { status: 'blocked', exitCode: null, reason, steps: [{ ...BLOCKED_GATE, reason }] };
    }
    for (let i = from ? Math.max(0, from.stage) : 0; i < this.plan.stages.length; i++) {
      const stage = this.plan.stages[i]!;
      if (failure || this.stop.aborted) {
        const why = this.stop.aborted ? stopText(this.stop.reason as StopReason) : notRunBecause(failure!, 'stage');
        steps.push({ stage: stage.name, name: null, status: 'skipped', exitCode: null, durationMs: 0, reason: `not run: ${why}` });
        continue;
      }
      this.at.push(i);
      const outcome = await this.stage(stage, from && i === from.stage ? from.path : undefined);
      this.at.pop();
      steps.push(...outcome.results);
      if (outcome.handedOver) {
        const entry = outcome.handedOver;
        const where = entry.name === null ? `stage ${entry.stage}` : `step ${entry.name}`;
        const status = entry.status === 'awaiting_approval' ? 'awaiting_approval' : 'retrying';
        return { status, exitCode: entry.exitCode, reason: `${where}: ${entry.reason}`, steps };
      }
      failure = outcome.failure;
    }
    const stopped = this.stop.aborted ? (this.stop.reason as StopReason) : undefined;
    if (stopped?.kind === 'timeout') return { status: 'timed_out', exitCode: failure?.exitCode ?? null, reason: stopText(stopped), steps };
    if (stopped?.kind === 'cancel') return { status: 'cancelled', exitCode: failure?.exitCode ?? null, reason: stopText(stopped), steps };
    if (stopped) return { status: 'failed', exitCode: failure?.exitCode ?? null, reason: `stopped: ${stopText(stopped)}`, steps };
    if (!failure) return { status: 'succeeded', exitCode: 0, steps };
    const where = failure.name === null ? `stage ${failure.stage}` : `step ${failure.name}`;
    const status = failure.status === 'timed_out' || failure.status === 'blocked' ? failure.status : 'failed';
    return { status, exitCode: failure.exitCode, reason: `${where}: ${failure.reason}`, steps };
  }

  /** Why the plan has no step where the suspension says the run stopped (it cannot differ when planned from the same document). */
  private resumeProblem(from: Omit<RunSuspension, 'at'>): string | undefined {
    // A manual intervention's step is a leaf like a retried one; an approval's is the gate.
    const gate = from.approved !== undefined && from.decision === undefined;
    if (gate && from.stage === -1) return this.plan.approval ? undefined : `the run's plan has no gate before its first stage`;
    const stage = this.plan.stages[from.stage];
    if (gate && !from.path.length)
      return stage?.approval && stage.name === from.step ? undefined : `the run's plan has no approval stage ${from.step} where it stopped`;
    let steps: readonly PlanStep[] | undefined = stage?.steps;
    let step: PlanStep | undefined;
    const names: string[] = [];
    for (const index of from.path) {
      step = steps?.[index];
      if (!step) break;
      names.push(step.name);
      steps = step.kind === 'group' ? step.steps : undefined;
    }
    if (
      !stage ||
      !step ||
      names.join('/') !== from.step ||
      step.kind === 'group' ||
      step.kind === 'parallel' ||
      gate !== (step.kind === 'approval')
    )
      return `the run's plan has no step ${from.step} where it stopped`;
    return undefined;
  }
}

const BLOCKED_GATE: StepResult = { stage: DEFINITION_GATE, name: null, status: 'blocked', exitCode: null, durationMs: 0 };

function combine(outcomes: Outcome[]): Outcome {
  const failure = outcomes.find((o) => o.failure)?.failure;
  return { results: outcomes.flatMap((o) => o.results), ...(failure ? { failure } : {}) };
}

/** The shorter of two optional limits. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Runs one matched definition's plan: stages in order, steps in order (parallel blocks
 * concurrently), with the run's payload in a private temporary file for TRIG_PAYLOAD.
 */
export async function executeRun(plan: RunPlan, ctx: RunContext): Promise<RunResult> {
  // A resumed run started earlier, in another process: its duration and timeout count from then.
  const earlier = ctx.startedAt !== undefined ? Math.max(0, Date.now() - ctx.startedAt) : 0;
  const started = now() - earlier;
  const { id } = ctx;
  // Serialised before the folder exists, and the folder removed if writing fails: a run
  // that cannot start leaves nothing behind in the temporary directory.
  const payloadText = JSON.stringify(ctx.payload ?? {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-run-'));
  const payloadFile = path.join(dir, 'payload.json');
  try {
    writeFileSync(payloadFile, payloadText, { mode: 0o600 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const runner = new Runner(plan, ctx, id, payloadFile);

  const definitionTimeout = plan.timeout !== undefined ? parseDuration(plan.timeout) : undefined;
  const timeoutMs = earliest(ctx.timeoutMs, definitionTimeout);
  // A resumed run already past its timeout (a long wait at a gate) runs nothing more.
  if (timeoutMs !== undefined && timeoutMs <= earlier) runner.abort({ kind: 'timeout', after: timeoutMs });
  const timer =
    timeoutMs !== undefined && timeoutMs > earlier
      ? setTimeout(() => runner.abort({ kind: 'timeout', after: timeoutMs }), timeoutMs - earlier)
      : undefined;
  const onStop = () => runner.abort(ctx.stop!.reason as StopReason);
  if (ctx.stop?.aborted) onStop();
  ctx.stop?.addEventListener('abort', onStop, { once: true });
  try {
    const outcome = await runner.run();
    const { steps, reason, ...status } = outcome;
    const result: RunResult = { id, ...status, durationMs: Math.round(now() - started), ...(reason ? { reason } : {}), steps };
    const tail = `in ${formatDuration(result.durationMs)}${result.reason ? ` (${result.reason})` : ''}`;
    const waits = result.status === 'skipped' || result.status === 'retrying' || result.status === 'awaiting_approval';
    ctx.output.finished(result.status, waits ? `(${result.reason})` : tail);
    return result;
  } finally {
    if (timer) clearTimeout(timer);
    ctx.stop?.removeEventListener('abort', onStop);
    rmSync(dir, { recursive: true, force: true });
  }
}
