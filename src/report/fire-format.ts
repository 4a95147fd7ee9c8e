import type { LoadedDocument } from '../load/load.js';
import type { PlanStep, RunPlan } from '../plan/plan.js';
import type { Diagnostic } from './diagnostic.js';
import type { Style } from './style.js';

export interface FireDefinition {
  file: string;
  name: string;
  valid: boolean;
  matched: boolean;
  /** The event that matched: the fired one, or one derived from it (comment_mention). */
  event?: string;
  /** The `on:` entry that matched. */
  entry?: string;
  reason: string;
  trigger?: Record<string, unknown>;
  /** Why a matched definition does not run (a required input without a value). */
  stopped?: string;
  plan?: RunPlan;
  diagnostics?: Diagnostic[];
  document?: LoadedDocument;
}

export interface FireReport {
  event: string;
  at: string;
  trigger: Record<string, unknown>;
  definitions: FireDefinition[];
}

/** The trigger fields without the raw payload, which can be large and is in the input already. */
function fieldsOnly(trigger: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!trigger) return undefined;
  const { payload: _payload, ...fields } = trigger;
  return fields;
}

function planJson(plan: RunPlan) {
  const { secrets: _secrets, ...rest } = plan;
  return rest;
}

/** The shape documented by schemas/fire-output.schema.json. */
export function fireJson(report: FireReport) {
  return {
    event: report.event,
    at: report.at,
    trigger: fieldsOnly(report.trigger),
    definitions: report.definitions.map((d) => ({
      file: d.file,
      name: d.name,
      valid: d.valid,
      matched: d.matched,
      ...(d.event ? { event: d.event } : {}),
      ...(d.entry ? { entry: d.entry } : {}),
      reason: d.reason,
      ...(d.matched && d.event !== report.event ? { trigger: fieldsOnly(d.trigger) } : {}),
      ...(d.stopped ? { stopped: d.stopped } : {}),
      ...(d.plan ? { plan: planJson(d.plan) } : {}),
      ...(d.diagnostics
        ? { diagnostics: d.diagnostics.map((x) => ({ file: x.file, line: x.line, column: x.col, rule: x.rule, message: x.message })) }
        : {}),
    })),
  };
}

export function formatFireJson(report: FireReport): string {
  return JSON.stringify(fireJson(report), null, 2) + '\n';
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function stepLines(step: PlanStep, indent: string, style: Style): string[] {
  const head = `${indent}step ${step.name}`;
  if (step.kind === 'skipped') return [`${head}: ${style.yellow('skipped')}: ${step.reason}`];
  const lines = [`${head}${step.if ? ` (if ${step.if})` : ''}`];
  if (step.steps) {
    lines[0] += ` [${step.kind}]`;
    for (const nested of step.steps) lines.push(...stepLines(nested, indent + '  ', style));
    return lines;
  }
  if (step.command) lines.push(`${indent}  $ ${step.command.map(quoteArg).join(' ')}`);
  for (const [key, value] of Object.entries(step.env)) lines.push(`${indent}  ${style.dim(`${key}=`)}${JSON.stringify(value)}`);
  for (const problem of step.problems) lines.push(`${indent}  ${style.yellow('warning:')} ${problem}`);
  return lines;
}

export interface FireTextOptions {
  explain: boolean;
  plans: boolean;
  quiet: boolean;
}

/** One line per matched definition; with --explain also why the others did not match. */
export function formatFireText(report: FireReport, options: FireTextOptions, style: Style): string {
  const out: string[] = [];
  for (const d of report.definitions) {
    const where = `${d.file}: ${style.bold(d.name)}`;
    if (!d.valid) {
      out.push(`${where}: ${style.red('invalid')}: ${d.reason}`);
      for (const x of d.diagnostics ?? []) out.push(`  ${x.file}:${x.line}:${x.col}: ${x.message} [${x.rule}]`);
      continue;
    }
    if (!d.matched) {
      if (options.explain && !options.quiet) out.push(`${where}: ${style.dim('not matched')}: ${d.reason}`);
      continue;
    }
    if (d.stopped) {
      out.push(`${where}: ${style.green('matched')} ${d.entry ?? d.event}, ${style.red('not run')}: ${d.stopped}`);
      continue;
    }
    if (options.quiet) continue;
    out.push(`${where}: ${style.green('matched')} ${d.entry ?? d.event}${d.event !== report.event ? ` (as ${d.event})` : ''}`);
    if (!options.plans || !d.plan) continue;
    for (const problem of d.plan.problems) out.push(`  ${style.yellow('warning:')} ${problem}`);
    for (const stage of d.plan.stages) {
      out.push(`  stage ${stage.name}${stage.if ? ` (if ${stage.if})` : ''}${stage.reason ? `: ${style.yellow('skipped')}: ${stage.reason}` : ''}`);
      for (const step of stage.steps) out.push(...stepLines(step, '    ', style));
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
