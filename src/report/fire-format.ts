// The report of a fire, as text and as JSON (schemas/fire-output.schema.json): a mapping
// of what each stage returned (decision, plan, run), read and never changed.

import type { RunResult } from '../execute/run.js';
import type { Decision } from '../match/decide.js';
import type { PlanResult, PlanStep, RunPlan } from '../plan/plan.js';
import { formatDuration } from '../shared/duration.js';
import { maskDeep, type Masker } from '../shared/mask.js';
import { oneLine, printableDeep } from '../shared/printable.js';
import { shQuote } from '../shared/shell.js';
import type { Style } from '../shared/style.js';
import type { ChainLink } from '../shared/chain.js';

/** One definition in a fire: what each stage returned for it. */
export interface FiredDefinition {
  decision: Decision;
  /** Matched definitions: the run plan, or why it cannot run (a required input without a value). */
  planned?: PlanResult;
  /** What happened when the plan was run (absent with --dry-run). */
  run?: RunResult;
}

export interface FireReport {
  event: string;
  at: Date;
  /** The fired event's trigger fields (its raw payload included). */
  trigger: Record<string, unknown>;
  definitions: readonly FiredDefinition[];
  /** Present when runs were launched (not with --dry-run). */
  summary?: RunSummary;
  /** The stored event, when the fire was remembered; for a duplicate delivery, the original one. */
  eventId?: string;
  /** The delivery was handled before (as eventId): nothing was decided or run. */
  duplicate?: { deliveryKey: string };
  /** The stored event this fire replays (trig replay). */
  replayOf?: string;
  /** For an event a run's end fired: the runs that led to it, oldest first. */
  chain?: readonly ChainLink[];
  /** The events this fire's runs fired when they ended, as reports of their own. */
  chained?: readonly FireReport[];
}

export interface RunSummary {
  matched: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  /** Runs a newer run of their concurrency group replaced. */
  cancelled: number;
  skipped: number;
  /** Runs stopped at an approval step or stage. */
  blocked: number;
  /** Matched but never started (a required input without a value). */
  notRun: number;
  /** Runs that wait for a retry, handed over to the cron tick or trig resume (only when some are). */
  retrying?: number;
  /** Runs that wait at an approval gate for trig approve (only when some are). */
  awaitingApproval?: number;
  /** Runs a gate rejected (only when some are). */
  rejected?: number;
  durationMs: number;
  /** The signal that stopped trig, if one did. */
  signal?: string;
}

export function summarizeRuns(definitions: readonly FiredDefinition[], durationMs: number, signal?: string): RunSummary {
  const matched = definitions.filter((d) => d.decision.matched);
  const count = (status: string) => matched.filter((d) => d.run?.status === status).length;
  return {
    matched: matched.length,
    succeeded: count('succeeded'),
    failed: count('failed'),
    timedOut: count('timed_out'),
    cancelled: count('cancelled'),
    skipped: count('skipped'),
    blocked: count('blocked'),
    notRun: matched.filter((d) => !d.run).length,
    ...(count('retrying') ? { retrying: count('retrying') } : {}),
    ...(count('awaiting_approval') ? { awaitingApproval: count('awaiting_approval') } : {}),
    ...(count('rejected') ? { rejected: count('rejected') } : {}),
    durationMs,
    ...(signal ? { signal } : {}),
  };
}

/** The trigger fields without the raw payload, which can be large and is in the input already. */
function fieldsOnly(trigger: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!trigger) return undefined;
  const { payload: _payload, ...fields } = trigger;
  return fields;
}

function planJson(plan: RunPlan) {
  const { secrets: _secrets, secretVariables: _secretVariables, ...rest } = plan;
  return rest;
}

/** One definition as the report shows it: flat, in the order of the JSON schema. */
function definitionView(d: FiredDefinition, event: string) {
  const { decision, planned, run } = d;
  return {
    file: decision.file,
    name: decision.name,
    valid: decision.valid,
    matched: decision.matched,
    ...(decision.matched ? { event: decision.event } : {}),
    ...(decision.matched && decision.entry ? { entry: decision.entry } : {}),
    reason: decision.reason,
    ...(decision.matched && decision.event !== event ? { trigger: fieldsOnly(decision.trigger) } : {}),
    ...(planned && 'stop' in planned ? { stopped: planned.stop } : {}),
    ...(planned && 'plan' in planned ? { plan: planJson(planned.plan) } : {}),
    ...(run ? { run } : {}),
    ...(!decision.valid ? { diagnostics: decision.diagnostics } : {}),
  };
}

/** What a chained fire shows of its definitions: those that matched, or that their chain stopped. */
function chainShown(d: FiredDefinition): boolean {
  return d.decision.matched || (d.decision.valid && d.decision.chainStopped === true);
}

/** The shape documented by schemas/fire-output.schema.json. */
export function fireJson(report: FireReport): Record<string, unknown> {
  const definitions = report.chain ? report.definitions.filter(chainShown) : report.definitions;
  return {
    event: report.event,
    at: report.at.toISOString(),
    trigger: fieldsOnly(report.trigger),
    definitions: definitions.map((d) => {
      const { diagnostics, ...view } = definitionView(d, report.event);
      return {
        ...view,
        ...(diagnostics
          ? {
              diagnostics: diagnostics.map((x) => ({
                file: x.file,
                line: x.line,
                column: x.col,
                severity: x.severity,
                rule: x.rule,
                message: x.message,
              })),
            }
          : {}),
      };
    }),
    ...(report.summary ? { summary: report.summary } : {}),
    ...(report.eventId ? { eventId: report.eventId } : {}),
    ...(report.replayOf ? { replayOf: report.replayOf } : {}),
    ...(report.duplicate ? { duplicate: true, delivery: report.duplicate.deliveryKey } : {}),
    ...(report.chain ? { chain: report.chain } : {}),
    ...(report.chained?.length ? { chained: report.chained.map(fireJson) } : {}),
  };
}

/** `after build run 1a2b3c4d5e6f`: the run whose end fired a chained event. */
function chainedAfter(chain: readonly ChainLink[]): string {
  const last = chain[chain.length - 1]!;
  return `chained after ${last.definition} run ${last.runId}`;
}

export function formatFireJson(report: FireReport, mask?: Masker): string {
  const json = fireJson(report);
  return JSON.stringify(mask ? maskDeep(json, mask) : json, null, 2) + '\n';
}

/** The last line of a text-mode fire that launched runs: `3 matched, 2 succeeded, 1 failed in 4.2s`. */
export function formatRunSummary(summary: RunSummary, style: Style): string {
  const { failed, timedOut, skipped, blocked, notRun, durationMs } = summary;
  const parts = [`${summary.matched} matched`, `${summary.succeeded} succeeded`, failed ? style.red(`${failed} failed`) : '0 failed'];
  if (timedOut) parts.push(style.red(`${timedOut} timed out`));
  if (summary.cancelled) parts.push(`${summary.cancelled} cancelled`);
  if (skipped) parts.push(`${skipped} skipped`);
  if (blocked) parts.push(style.red(`${blocked} blocked`));
  if (notRun) parts.push(style.red(`${notRun} not run`));
  if (summary.retrying) parts.push(style.yellow(`${summary.retrying} waiting for a retry`));
  if (summary.awaitingApproval) parts.push(style.yellow(`${summary.awaitingApproval} awaiting approval (trig approvals)`));
  if (summary.rejected) parts.push(style.red(`${summary.rejected} rejected`));
  return `${parts.join(', ')} in ${formatDuration(durationMs)}${summary.signal ? ` (stopped by ${summary.signal})` : ''}\n`;
}

function stepLines(step: PlanStep, indent: string, style: Style): string[] {
  const head = `${indent}step ${step.name}`;
  if (step.kind === 'skipped') return [`${head}: ${style.yellow('skipped')}: ${oneLine(step.reason ?? '')}`];
  if (step.kind === 'approval') return [`${head}: ${style.yellow('approval')}: ${oneLine(step.reason ?? '')}`];
  const lines = [`${head}${step.if ? ` (if ${step.if})` : ''}`];
  if (step.steps) {
    lines[0] += ` [${step.kind}]`;
    for (const nested of step.steps) lines.push(...stepLines(nested, indent + '  ', style));
    return lines;
  }
  if (step.command) lines.push(`${indent}  $ ${step.command.map(shQuote).join(' ')}`);
  for (const [key, value] of Object.entries(step.env)) lines.push(`${indent}  ${style.dim(`${key}=`)}${JSON.stringify(value)}`);
  for (const problem of step.problems) lines.push(`${indent}  ${style.yellow('warning:')} ${oneLine(problem)}`);
  return lines;
}

export interface FireTextOptions {
  explain: boolean;
  plans: boolean;
  quiet: boolean;
}

/**
 * One line per matched definition; with --explain also why the others did not match.
 * Secrets are masked in the report's values before they are quoted for display.
 */
export function formatFireText(report: FireReport, options: FireTextOptions, style: Style, mask?: Masker): string {
  // The text needs no trigger fields (they hold the whole payload).
  // A chained event shows only what it started or what its chain stopped, even with --explain.
  const shown = (report.chain ? report.definitions.filter(chainShown) : report.definitions).map((d) => {
    const { trigger: _trigger, ...view } = definitionView(d, report.event);
    return view;
  });
  // Masked first (a secret is matched as it is), then made printable: payload values must
  // not reach a terminal as escape sequences or as lines of their own (shared/printable.ts).
  const definitions = printableDeep(mask ? maskDeep(shown, mask) : shown);
  const event = mask ? mask(report.event) : report.event;
  const out: string[] = [];
  for (const d of definitions) {
    const where = `${d.file}: ${style.bold(d.name)}`;
    if (!d.valid) {
      out.push(`${where}: ${style.red('invalid')}: ${oneLine(d.reason)}`);
      for (const x of d.diagnostics ?? [])
        out.push(`  ${x.file}:${x.line}:${x.col}: ${x.severity === 'warning' ? 'warning: ' : ''}${oneLine(x.message)} [${x.rule}]`);
      continue;
    }
    if (!d.matched) {
      if ((options.explain || report.chain) && !options.quiet) out.push(`${where}: ${style.dim('not matched')}: ${oneLine(d.reason)}`);
      continue;
    }
    if (d.stopped) {
      out.push(`${where}: ${style.green('matched')} ${d.entry ?? d.event}, ${style.red('not run')}: ${oneLine(d.stopped)}`);
      continue;
    }
    if (options.quiet) continue;
    const from = report.chain ? ` (${oneLine(chainedAfter(report.chain))})` : d.event !== event ? ` (derived from ${event})` : '';
    out.push(`${where}: ${style.green('matched')} ${d.entry ?? d.event}${from}`);
    if (!options.plans || !d.plan) continue;
    for (const problem of d.plan.problems) out.push(`  ${style.yellow('warning:')} ${oneLine(problem)}`);
    // trig runs in --workdir and does not clone; the resolved settings are shown for checking.
    if (d.plan.clone !== undefined) out.push(`  clone ${JSON.stringify(d.plan.clone)}`);
    if (d.plan.concurrency) {
      const { name, cancelInProgress } = d.plan.concurrency;
      out.push(
        `  concurrency group ${oneLine(JSON.stringify(name))}${cancelInProgress ? ' (cancel-in-progress: a new run cancels the one running)' : ''}`,
      );
    }
    if (d.plan.approval) out.push(`  ${style.yellow('approval')}: the run waits for a decision before its first stage (trig approve)`);
    for (const stage of d.plan.stages) {
      const why = stage.reason ? `: ${style.yellow(stage.approval ? 'approval' : 'skipped')}: ${oneLine(stage.reason)}` : '';
      out.push(`  stage ${stage.name}${stage.if ? ` (if ${stage.if})` : ''}${why}`);
      for (const step of stage.steps) out.push(...stepLines(step, '    ', style));
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
