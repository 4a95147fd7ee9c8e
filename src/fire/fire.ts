// The fire core: one event in, the outcome out, as data. The CLI (`trig fire`), the git
// hooks and the cron entry (which runs `trig fire`) call it; the HTTP receiver and the
// store will too. It reads no flags and writes nothing of its own: the steps' output lines
// go to the writer it is given, and what to say about the outcome is the caller's choice.
//
//   decide (match/decide.ts) -> plan (plan/matched.ts) -> execute (execute/execute.ts)
//
// Each stage returns its own result; the report (report/fire-format.ts) maps them. Planning
// and executing are imported only when something matched: the every-minute schedule fire
// usually matches nothing and must stay cheap.

import { statSync } from 'node:fs';
import path from 'node:path';
import { checkEvent } from '../catalog/events.js';
import type { RunResult } from '../execute/run.js';
import { buildTriggerContexts } from '../match/context.js';
import { scheduleMinute } from '../match/filters.js';
import { decideDefinitions, type Decision, type MatchedDecision } from '../match/decide.js';
import type { PlanResult, RunPlan } from '../plan/plan.js';
import { summarizeRuns, type FiredDefinition, type FireReport } from '../report/fire-format.js';
import { UsageError } from '../shared/errors.js';
import type { Writer } from '../shared/io.js';
import { createMasker, type Masker } from '../shared/mask.js';
import { PLAIN_STYLE, type Style } from '../shared/style.js';
import type { CheckResult } from '../validate/check.js';
import { readDocument } from '../validate/definitions.js';
import type { Definition } from '../load/definition.js';
import type { ChainLink, DecisionRecord, EventSource, RunSnapshot, Store, StoredRunStatus } from '../store/store.js';
import { chainedEvents, guardChain, isChainStopped } from './chain.js';
import { FIRE_DEFAULTS, MAX_CHAIN_DEPTH } from './defaults.js';

export interface FireOptions {
  /** Decide and plan; launch nothing. */
  dryRun: boolean;
  /** A definition with warnings is treated as invalid and never fires. */
  strict: boolean;
  /** How many runs at most at once. */
  concurrency: number;
  /** Bounds each run. */
  timeoutMs?: number;
  /** The working directory of the runs (default: the caller's current directory). */
  workdir: string;
  /** The container engine CLI for container steps. */
  containerRuntime: string;
  /** The steps' lines only when they fail. */
  quiet: boolean;
  /** How many chained events deep a chain of runs goes (0: a run's end starts nothing). */
  chainDepth: number;
}

export interface FireRequest {
  /** A catalog event name (push, schedule, pipeline_failed, …). */
  event: string;
  /** The event's payload, as parsed JSON. */
  payload: Record<string, unknown>;
  /** Definition paths to load (none: `.harness/`), or definitions already checked. */
  definitions: readonly string[] | CheckResult;
  /** `--input` values. */
  inputs?: Readonly<Record<string, string>>;
  /** The time of the event, which decides the schedules that are due (default: the clock's now). */
  at?: Date;
  /** When the event is recorded as received (default: at). A replay decides at the original event's time, and is received now. */
  receivedAt?: Date;
  /** Each one left out takes its default (FIRE_DEFAULTS, the current directory, off). */
  options?: Partial<FireOptions>;
  /** Who reports the event (default: cli). */
  source?: EventSource;
  /** Identifies the delivery: a second fire with the same source and key runs nothing. */
  deliveryKey?: string;
  /**
   * The event is a schedule slot (the cron entry's tick, or a catch-up of a missed one):
   * once something matched, and without a deliveryKey, its key is the places and the
   * minute of `at` (slotKey), so that two cron daemons, or a tick and a catch-up, run a
   * slot once. A tick that matches nothing has no key and never opens the store.
   */
  keyBySlot?: boolean;
  /**
   * Identifies what happened, for each definition: a definition runs at most once per
   * (source, occurrence), even when several fires report it with different definitions
   * in view (a ref update seen by a clone's hook and by its server's). Default: the
   * delivery key, else the event itself.
   */
  occurrence?: string;
  /** The stored event this fire replays (trig replay): recorded, and never a duplicate. */
  replayOf?: string;
  /** HTTP headers to keep with the event, for replaying it. */
  headers?: Record<string, string>;
  /** Facts about the event to keep with it (caughtUp, the schedule slot). */
  details?: Record<string, unknown>;
  /** Where the definitions belong, for `trig runs` there (default: the definition paths given). */
  places?: readonly string[];
  /** For a chained event (set by the core, source chain): the runs that led to it, oldest first. */
  chain?: readonly ChainLink[];
  /**
   * A run of a definition with no concurrency group of its own joins the group of this name
   * and the definition (trig watch: each definition runs one batch at a time, the newest one
   * waiting). Without it such runs go at once.
   */
  defaultGroup?: string;
  /**
   * The event is already stored, admitted without a dispatch (trig serve acknowledges a
   * delivery so, before deciding it): the core records its decisions and runs on that
   * event (store.dispatchEvent) instead of admitting it. Runs are keyed as for a fresh
   * fire, so a second dispatch of the event (a restarted receiver) runs nothing twice.
   */
  admitted?: { eventId: string };
}

export interface FireDeps {
  now(): Date;
  /** The environment the plans read (secrets, inputs' fallbacks) and the runs inherit. */
  env: NodeJS.ProcessEnv;
  cwd(): string;
  /** Loads and checks definition paths (validate/definitions.ts, with the caller's notices). */
  loadDefinitions(paths: readonly string[]): Promise<CheckResult>;
  /** Where the steps' output lines go, each prefixed `[definition/step]` and masked. */
  runOutput: Writer;
  /** Colours of the run lines' prefixes (default: none). */
  runStyle?: Style;
  /** Told once the definitions are decided and planned, before any run starts (see present.ts). */
  onPlanned?(outcome: FireOutcome): void | Promise<void>;
  /**
   * The store (store/store.ts), opened only when the fire must be remembered: something
   * matched, or the event carries a delivery key. Without it nothing is recorded and
   * nothing is deduplicated (tests of the core, --dry-run).
   */
  openStore?(): Promise<Store>;
  /** Aborted with a signal's name by a caller that handles signals itself (trig watch): the runs stop as for that signal. */
  stop?: AbortSignal;
  /**
   * The runs do not listen to the process's signals themselves: only `stop` stops them
   * (trig serve lets running runs finish within a grace period after SIGTERM).
   */
  ignoreSignals?: boolean;
}

/** The outcome of a fire: the report's data, and what deciding the exit code needs. */
export interface FireOutcome extends FireReport {
  dryRun: boolean;
  /** Unmasked: an unknown --input name; a plan's problems (only when runs are launched). */
  warnings: string[];
  /** The secret values the plans resolved: masked in everything said about the fire. */
  secrets: readonly string[];
  mask: Masker;
  /** Files that could not be read: the definitions they hold might have matched. */
  unreadableFiles: number;
  /** A matched definition that did not succeed, was not run, or did not start. False with dryRun. */
  runsFailed: boolean;
  /** The signal that stopped the runs, if one did. */
  signal?: NodeJS.Signals;
  /** The stored event (when the fire was remembered); for a duplicate, the original one. */
  eventId?: string;
  /** The delivery was handled before: nothing was decided or run. */
  duplicate?: { deliveryKey: string };
  /**
   * A definition was not run again because it already ran for this occurrence, and that
   * run failed: the fire reports the failure it would have had (a pre-push with
   * --block-on-failure refuses a push whose post-commit run failed).
   */
  earlierRunFailed?: boolean;
  /** For a chained event: the runs that led to it. */
  chain?: readonly ChainLink[];
  /**
   * The fires of the events this fire's runs fired when they ended (workflow_run,
   * pipeline_failed; fire/chain.ts), each with its own chained ones; only those that
   * started something or were stopped by their chain.
   */
  chained?: FireOutcome[];
}

const FAILED_ENDS: readonly StoredRunStatus[] = ['failed', 'timed_out', 'lost', 'blocked'];

/** The delivery key of a schedule slot: the minute, and where the definitions are. */
export function slotKey(places: readonly string[], at: Date): string {
  return `schedule ${scheduleMinute(at)} ${places.join(' ')}`;
}

/** The run key of a definition for an event: the same definition for the same delivery is one run. */
function runKey(source: EventSource, request: FireRequest, eventId: string, definition: string): string {
  const occurrence =
    request.occurrence !== undefined
      ? `occurrence ${request.occurrence}`
      : request.deliveryKey !== undefined
        ? `delivery ${request.deliveryKey}`
        : `event ${eventId}`;
  return [source, occurrence, definition].join('\n');
}

/** The concurrency group a run joins: its definition's own, else the request's default one. */
function groupOf(plan: RunPlan, request: FireRequest, decision: Decision): { group?: { name: string; cancelInProgress: boolean } } {
  if (plan.concurrency) return { group: plan.concurrency };
  if (request.defaultGroup === undefined) return {};
  return { group: { name: `${request.defaultGroup} ${decision.file}: ${decision.name}`, cancelInProgress: false } };
}

function decisionRecords(definitions: readonly FiredDefinition[], cwd: string): DecisionRecord[] {
  return definitions.map(({ decision: d }) => ({
    file: path.resolve(cwd, d.file),
    definition: d.name,
    matched: d.matched,
    reason: d.reason,
  }));
}

/** The places of definition paths as given (none: `.harness/`), as absolute paths. */
export function definitionPlaces(paths: readonly string[], cwd: string): string[] {
  return (paths.length ? paths : ['.harness']).map((p) => path.resolve(cwd, p));
}

/** Where the definitions come from, as absolute paths: what `trig runs` here looks for. */
function placesOf(request: FireRequest, checked: CheckResult, cwd: string): string[] {
  if (request.places) return request.places.map((p) => path.resolve(cwd, p));
  if (Array.isArray(request.definitions)) return definitionPlaces(request.definitions as readonly string[], cwd);
  return [...new Set(checked.definitions.map((d) => path.resolve(cwd, d.file)))];
}

export function checkWorkdir(dir: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new UsageError(`--workdir "${dir}": no such directory`);
}

function resolveOptions(given: Partial<FireOptions> | undefined, deps: FireDeps): FireOptions {
  const options: FireOptions = {
    dryRun: given?.dryRun ?? false,
    strict: given?.strict ?? false,
    concurrency: given?.concurrency ?? FIRE_DEFAULTS.concurrency,
    timeoutMs: given?.timeoutMs,
    workdir: given?.workdir ?? deps.cwd(),
    containerRuntime: given?.containerRuntime ?? FIRE_DEFAULTS.containerRuntime,
    quiet: given?.quiet ?? false,
    chainDepth: given?.chainDepth ?? FIRE_DEFAULTS.chainDepth,
  };
  if (!Number.isSafeInteger(options.chainDepth) || options.chainDepth < 0 || options.chainDepth > MAX_CHAIN_DEPTH) {
    throw new UsageError(`chain depth ${options.chainDepth}: expected a whole number from 0 to ${MAX_CHAIN_DEPTH}`);
  }
  if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
    throw new UsageError(`concurrency ${options.concurrency}: expected a positive whole number`);
  }
  return options;
}

function planOf(d: FiredDefinition): RunPlan | undefined {
  return d.planned && 'plan' in d.planned ? d.planned.plan : undefined;
}

/**
 * Decides which definitions the event starts, plans them and (unless dryRun) runs them;
 * then fires, through this same function, the events their ends fire (fire/chain.ts).
 */
export async function fire(request: FireRequest, deps: FireDeps): Promise<FireOutcome> {
  const { outcome, checked, options } = await fireOne(request, deps);
  // Nothing ran (dry run, duplicate), or trig is being stopped: nothing to chain.
  if (outcome.dryRun || outcome.duplicate || outcome.signal) return outcome;
  const origin = { ...(outcome.eventId ? { eventId: outcome.eventId } : {}), chain: request.chain ?? [] };
  const chained = await fireChained(outcome.definitions, origin, checked, options, placesOf(request, checked, deps.cwd()), deps);
  if (!chained.length) return outcome;
  // What is said about the fire (its JSON holds the chained plans) masks their secrets too.
  const secrets = [...new Set([...outcome.secrets, ...chained.flatMap((c) => c.secrets)])];
  return { ...outcome, chained, secrets, mask: createMasker(secrets) };
}

/**
 * Fires, through the core, the events the ends of these runs fire (workflow_run,
 * pipeline_failed), against the same definitions; the outcomes of those that started
 * something or were stopped by their chain. A run not over (handed over for a retry)
 * fires nothing: its resumer does, once it ends.
 */
export async function fireChained(
  definitions: readonly FiredDefinition[],
  origin: { eventId?: string; chain: readonly ChainLink[] },
  checked: CheckResult,
  options: FireOptions,
  places: readonly string[],
  deps: FireDeps,
): Promise<FireOutcome[]> {
  const chained: FireOutcome[] = [];
  for (const next of chainedEvents(definitions, origin, deps.cwd())) {
    const result = await fire(
      {
        event: next.event,
        payload: next.payload,
        definitions: checked,
        options,
        source: 'chain',
        deliveryKey: next.deliveryKey,
        places,
        chain: next.chain,
        details: { chain: next.chain },
      },
      deps,
    );
    if (result.definitions.some((d) => d.decision.matched || isChainStopped(d.decision))) chained.push(result);
  }
  return chained;
}

async function fireOne(
  request: FireRequest,
  deps: FireDeps,
): Promise<{ outcome: FireOutcome; checked: CheckResult; options: FireOptions }> {
  checkEvent(request.event);
  const options = resolveOptions(request.options, deps);
  if (!options.dryRun) checkWorkdir(options.workdir);
  const at = request.at ?? deps.now();
  const checked = Array.isArray(request.definitions)
    ? await deps.loadDefinitions(request.definitions)
    : (request.definitions as CheckResult);
  const contexts = buildTriggerContexts(request.event, request.payload);
  const candidates = decideDefinitions(checked, contexts, { at, strict: options.strict });
  const guarded = guardChain(candidates, request.chain ?? [], options.chainDepth, deps.cwd());
  const decisions = guarded.decisions;
  const source = request.source ?? 'cli';
  // A schedule slot is keyed only once something matched: the tick that matches nothing
  // carries no key, so it never opens the store.
  if (request.keyBySlot && request.deliveryKey === undefined && decisions.some((d) => d.matched)) {
    request = { ...request, deliveryKey: slotKey(placesOf(request, checked, deps.cwd()), at) };
  }
  const planned = await planDecisions(decisions, checked, request, options, deps);
  const outcome: FireOutcome = {
    event: request.event,
    at,
    trigger: contexts[0]!.fields,
    definitions: planned.definitions,
    dryRun: options.dryRun,
    warnings: planned.warnings,
    secrets: [...planned.secrets],
    mask: createMasker(planned.secrets),
    unreadableFiles: checked.readErrors.length,
    runsFailed: false,
    ...(request.replayOf ? { replayOf: request.replayOf } : {}),
    ...(request.chain?.length ? { chain: request.chain } : {}),
  };
  const done = (result: FireOutcome) => ({ outcome: result, checked, options });

  // Remembered only when it matters: the every-minute schedule fire that matches nothing
  // never opens the store, nor does a run's end that no definition listens to. A chain
  // that stopped is remembered, with its reasons.
  const remember =
    !options.dryRun &&
    deps.openStore &&
    (request.admitted !== undefined || candidates.some((d) => d.matched) || (request.deliveryKey !== undefined && source !== 'chain'));
  if (!remember) {
    await deps.onPlanned?.(outcome);
    return done(options.dryRun ? outcome : await executeOutcome(outcome, request, options, deps, undefined));
  }
  const recordedRequest = guarded.stopped ? { ...request, details: { ...request.details, chainStopped: guarded.stopped } } : request;
  const store = await deps.openStore!();
  try {
    const recorded = await recordFire(store, outcome, recordedRequest, checked, deps);
    if (recorded.duplicate) return done(recorded.duplicate);
    await deps.onPlanned?.(recorded.outcome);
    return done(await executeOutcome(recorded.outcome, request, options, deps, { store, runIds: recorded.runIds }));
  } finally {
    store.close();
  }
}

/** The document each matched decision was planned from: what a suspended run keeps to be planned again. */
const documentsOf = new WeakMap<Decision, Definition>();

/** What planning a run again needs (trig resume), without a secret: the document, the trigger fields, the --input values, the options. */
function snapshotOf(decision: MatchedDecision, request: FireRequest, options: FireOptions): RunSnapshot | undefined {
  const document = documentsOf.get(decision);
  if (!document) return undefined;
  const { payload: _payload, ...trigger } = decision.trigger;
  return {
    document: document.value,
    index: document.index,
    event: decision.event,
    trigger,
    inputs: { ...request.inputs },
    workdir: path.resolve(options.workdir),
    containerRuntime: options.containerRuntime,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    quiet: options.quiet,
    chainDepth: options.chainDepth,
  };
}

interface Planned {
  definitions: FiredDefinition[];
  warnings: string[];
  secrets: Set<string>;
}

/** The plans of the matched definitions (planning is loaded only when something matched). */
async function planDecisions(
  decisions: readonly Decision[],
  checked: CheckResult,
  request: FireRequest,
  options: FireOptions,
  deps: FireDeps,
): Promise<Planned> {
  const warnings: string[] = [];
  const secrets = new Set<string>();
  const matched = decisions.filter((d): d is MatchedDecision => d.matched);
  if (!matched.length) return { definitions: decisions.map((decision) => ({ decision })), warnings, secrets };
  const { planMatched, planWarnings } = await import('../plan/matched.js');
  const documents = [];
  for (const decision of matched) {
    const document = await readDocument(checked, decision.definition);
    documentsOf.set(decision, document);
    documents.push({ decision, document });
  }
  const plans = planMatched(documents, {
    inputs: request.inputs ?? {},
    env: deps.env,
    workdir: options.workdir,
    containerRuntime: options.containerRuntime,
  });
  plans.secrets.forEach((s) => secrets.add(s));
  warnings.push(...plans.warnings);
  const byDecision = new Map<Decision, PlanResult>(matched.map((decision, i) => [decision, plans.planned[i]!]));
  const definitions = decisions.map((decision) =>
    byDecision.has(decision) ? { decision, planned: byDecision.get(decision)! } : { decision },
  );
  // With dryRun a plan's problems are shown in the plan; a run says them as warnings.
  if (!options.dryRun) {
    for (const d of definitions) {
      const plan = planOf(d);
      if (plan) warnings.push(...planWarnings(d.decision.file, d.decision.name, plan));
    }
  }
  return { definitions, warnings, secrets };
}

type Remembered = { duplicate: FireOutcome } | { duplicate?: undefined; outcome: FireOutcome; runIds: string[] };

/**
 * Records the event, its decisions and its runs in one transaction: either the delivery
 * is new and every run it starts is queued, or it was handled before and nothing is. A run
 * the same definition already had for this occurrence is not queued again; it shows as
 * skipped, with the earlier run's id and status.
 */
async function recordFire(
  store: Store,
  outcome: FireOutcome,
  request: FireRequest,
  checked: CheckResult,
  deps: FireDeps,
): Promise<Remembered> {
  const { thisProcess } = await import('./record.js');
  const { newEventId } = await import('../store/ids.js');
  const source = request.source ?? 'cli';
  const eventId = request.admitted?.eventId ?? newEventId();
  const runnable = outcome.definitions.filter((d) => planOf(d));
  const dispatch = {
    decisions: decisionRecords(outcome.definitions, deps.cwd()),
    runs: runnable.map((d) => {
      const plan = planOf(d)!;
      return {
        key: runKey(source, request, eventId, d.decision.name),
        file: path.resolve(deps.cwd(), d.decision.file),
        definition: d.decision.name,
        ...groupOf(plan, request, d.decision),
      };
    }),
    owner: thisProcess(),
  };
  const admission = request.admitted
    ? {
        duplicate: false as const,
        eventId,
        runs: await store.dispatchEvent(eventId, dispatch.decisions, dispatch.runs, dispatch.owner),
      }
    : await store.admitEvent(
        {
          id: eventId,
          name: request.event,
          source,
          at: request.receivedAt ?? outcome.at,
          ...(request.deliveryKey !== undefined ? { deliveryKey: request.deliveryKey } : {}),
          places: placesOf(request, checked, deps.cwd()),
          payload: request.payload,
          ...(request.headers ? { headers: request.headers } : {}),
          ...(request.replayOf ? { replayOf: request.replayOf } : {}),
          ...(request.details ? { details: request.details } : {}),
        },
        dispatch,
      );
  if (admission.duplicate) return { duplicate: duplicateOutcome(outcome, admission.eventId, request.deliveryKey!) };

  const runIds: string[] = [];
  const already = new Map<FiredDefinition, RunResult>();
  let earlierRunFailed = false;
  runnable.forEach((d, i) => {
    const run = admission.runs[i]!;
    if (run.added) {
      runIds.push(run.id);
      return;
    }
    earlierRunFailed ||= FAILED_ENDS.includes(run.status);
    const what = request.occurrence !== undefined ? 'occurrence' : 'delivery';
    already.set(d, {
      id: run.id,
      status: 'skipped',
      exitCode: null,
      durationMs: 0,
      reason: `already run for this ${what} as run ${run.id} (${run.status})`,
      steps: [],
    });
  });
  return {
    outcome: {
      ...outcome,
      eventId,
      definitions: outcome.definitions.map((d) => (already.has(d) ? { ...d, run: already.get(d)! } : d)),
      ...(earlierRunFailed ? { earlierRunFailed } : {}),
    },
    runIds,
  };
}

function duplicateOutcome(outcome: FireOutcome, eventId: string, deliveryKey: string): FireOutcome {
  return { ...outcome, definitions: [], warnings: [], secrets: [], mask: createMasker([]), eventId, duplicate: { deliveryKey } };
}

async function executeOutcome(
  outcome: FireOutcome,
  request: FireRequest,
  options: FireOptions,
  deps: FireDeps,
  recording: { store: Store; runIds: string[] } | undefined,
): Promise<FireOutcome> {
  const executed = await execute(outcome, request, options, deps, recording);
  const finished = outcome.definitions.map((d) => (executed.runs.has(d) ? { ...d, run: executed.runs.get(d)! } : d));
  return {
    ...outcome,
    definitions: finished,
    summary: summarizeRuns(finished, executed.durationMs, executed.signal),
    // A matched definition that could not start (a required input without a value) fails the
    // fire like a failed run: the event asked for work that did not happen. A run cancelled
    // by a newer one of its concurrency group did what was asked of it.
    runsFailed:
      Boolean(outcome.earlierRunFailed) ||
      finished.some(
        (d) =>
          d.decision.matched && (!d.run || !['succeeded', 'skipped', 'cancelled', 'retrying', 'awaiting_approval'].includes(d.run.status)),
      ),
    ...(executed.signal ? { signal: executed.signal } : {}),
  };
}

interface Executed {
  runs: Map<FiredDefinition, RunResult>;
  durationMs: number;
  signal?: NodeJS.Signals;
}

async function execute(
  outcome: FireOutcome,
  request: FireRequest,
  options: FireOptions,
  deps: FireDeps,
  recording: { store: Store; runIds: string[] } | undefined,
): Promise<Executed> {
  const runnable = outcome.definitions.filter((d) => planOf(d) && !d.run);
  if (!runnable.length) return { runs: new Map(), durationMs: 0 };
  // Loaded only here, so that a fire that matches nothing never loads the run stage.
  const { executeRuns } = await import('../execute/execute.js');
  const { RecordingObserver } = await import('./record.js');
  const { runOutput } = deps;
  const executed = await executeRuns(
    runnable.map((d) => {
      const decision = d.decision as MatchedDecision;
      return {
        ...(recording ? { id: recording.runIds[runnable.indexOf(d)]! } : {}),
        definition: decision.name,
        event: decision.event,
        trigger: decision.trigger,
        plan: planOf(d)!,
      };
    }),
    {
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      workdir: options.workdir,
      env: deps.env,
      payload: request.payload,
      write: (text) => runOutput.write(text),
      ...(runOutput.backlog ? { backlog: () => runOutput.backlog!() } : {}),
      style: deps.runStyle ?? PLAIN_STYLE,
      mask: outcome.mask,
      quiet: options.quiet,
      ...(recording
        ? {
            observer: new RecordingObserver(
              recording.store,
              recording.runIds,
              runnable.map((d) => snapshotOf(d.decision as MatchedDecision, request, options)),
              false,
              deps.env,
            ),
          }
        : {}),
      ...(deps.stop ? { stop: deps.stop } : {}),
      ...(deps.ignoreSignals ? { ignoreSignals: true } : {}),
    },
  );
  return {
    runs: new Map(runnable.map((d, i) => [d, executed.runs[i]!])),
    durationMs: executed.durationMs,
    ...(executed.signal ? { signal: executed.signal } : {}),
  };
}
