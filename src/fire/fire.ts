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
import { EVENT_NAMES, eventSpec } from '../catalog/events.js';
import type { RunResult } from '../execute/run.js';
import { buildTriggerContexts } from '../match/context.js';
import { decideDefinitions, type Decision, type MatchedDecision } from '../match/decide.js';
import type { PlanResult, RunPlan } from '../plan/plan.js';
import { summarizeRuns, type FiredDefinition, type FireReport } from '../report/fire-format.js';
import { UsageError } from '../shared/errors.js';
import type { Writer } from '../shared/io.js';
import { createMasker, type Masker } from '../shared/mask.js';
import { PLAIN_STYLE, type Style } from '../shared/style.js';
import { suggest } from '../shared/suggest.js';
import type { CheckResult } from '../validate/check.js';
import { readDocument } from '../validate/definitions.js';
import { FIRE_DEFAULTS } from './defaults.js';

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
  /** Each one left out takes its default (FIRE_DEFAULTS, the current directory, off). */
  options?: Partial<FireOptions>;
}

/**
 * What the store (issue 12) will do for the core: remember each fire that matched
 * something. Not implemented yet; the slot stays empty.
 */
export interface FireStore {
  recordFire(outcome: FireOutcome): Promise<void>;
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
  store?: FireStore;
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
}

export function checkEvent(event: string): void {
  if (eventSpec(event)) return;
  const guess = suggest(event, [...EVENT_NAMES]);
  throw new UsageError(`unknown event "${event}"${guess ? `; did you mean "${guess}"?` : ''} (see the event list in the README)`);
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
  };
  if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
    throw new UsageError(`concurrency ${options.concurrency}: expected a positive whole number`);
  }
  return options;
}

function planOf(d: FiredDefinition): RunPlan | undefined {
  return d.planned && 'plan' in d.planned ? d.planned.plan : undefined;
}

/** Decides which definitions the event starts, plans them and (unless dryRun) runs them. */
export async function fire(request: FireRequest, deps: FireDeps): Promise<FireOutcome> {
  checkEvent(request.event);
  const options = resolveOptions(request.options, deps);
  if (!options.dryRun) checkWorkdir(options.workdir);
  const at = request.at ?? deps.now();
  const checked = Array.isArray(request.definitions)
    ? await deps.loadDefinitions(request.definitions)
    : (request.definitions as CheckResult);
  const contexts = buildTriggerContexts(request.event, request.payload);
  const decisions = decideDefinitions(checked, contexts, { at, strict: options.strict });

  const warnings: string[] = [];
  const secrets = new Set<string>();
  let definitions: FiredDefinition[] = decisions.map((decision) => ({ decision }));
  const matched = decisions.filter((d): d is MatchedDecision => d.matched);
  if (matched.length) {
    const { planMatched, planWarnings } = await import('../plan/matched.js');
    const documents = [];
    for (const decision of matched) documents.push({ decision, document: await readDocument(checked, decision.definition) });
    const plans = planMatched(documents, {
      inputs: request.inputs ?? {},
      env: deps.env,
      workdir: options.workdir,
      containerRuntime: options.containerRuntime,
    });
    plans.secrets.forEach((s) => secrets.add(s));
    warnings.push(...plans.warnings);
    const planned = new Map<Decision, PlanResult>(matched.map((decision, i) => [decision, plans.planned[i]!]));
    definitions = decisions.map((decision) => (planned.has(decision) ? { decision, planned: planned.get(decision)! } : { decision }));
    // With dryRun a plan's problems are shown in the plan; a run says them as warnings.
    if (!options.dryRun) {
      for (const d of definitions) {
        const plan = planOf(d);
        if (plan) warnings.push(...planWarnings(d.decision.file, d.decision.name, plan));
      }
    }
  }
  const outcome: FireOutcome = {
    event: request.event,
    at,
    trigger: contexts[0]!.fields,
    definitions,
    dryRun: options.dryRun,
    warnings,
    secrets: [...secrets],
    mask: createMasker(secrets),
    unreadableFiles: checked.readErrors.length,
    runsFailed: false,
  };
  await deps.onPlanned?.(outcome);
  if (options.dryRun) return outcome;

  const executed = await execute(outcome, request, options, deps);
  const finished = definitions.map((d) => (executed.runs.has(d) ? { ...d, run: executed.runs.get(d)! } : d));
  const done: FireOutcome = {
    ...outcome,
    definitions: finished,
    summary: summarizeRuns(finished, executed.durationMs, executed.signal),
    // A matched definition that could not start (a required input without a value) fails the
    // fire like a failed run: the event asked for work that did not happen.
    runsFailed: finished.some((d) => d.decision.matched && (!d.run || (d.run.status !== 'succeeded' && d.run.status !== 'skipped'))),
    ...(executed.signal ? { signal: executed.signal } : {}),
  };
  if (deps.store && matched.length) await deps.store.recordFire(done);
  return done;
}

interface Executed {
  runs: Map<FiredDefinition, RunResult>;
  durationMs: number;
  signal?: NodeJS.Signals;
}

async function execute(outcome: FireOutcome, request: FireRequest, options: FireOptions, deps: FireDeps): Promise<Executed> {
  const runnable = outcome.definitions.filter((d) => planOf(d));
  if (!runnable.length) return { runs: new Map(), durationMs: 0 };
  // Loaded only here, so that a fire that matches nothing never loads execa.
  const { executeRuns } = await import('../execute/execute.js');
  const { runOutput } = deps;
  const executed = await executeRuns(
    runnable.map((d) => {
      const decision = d.decision as MatchedDecision;
      return { definition: decision.name, event: decision.event, trigger: decision.trigger, plan: planOf(d)! };
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
    },
  );
  return {
    runs: new Map(runnable.map((d, i) => [d, executed.runs[i]!])),
    durationMs: executed.durationMs,
    ...(executed.signal ? { signal: executed.signal } : {}),
  };
}
