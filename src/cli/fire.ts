import { statSync } from 'node:fs';
import { EVENT_NAMES, eventSpec } from '../catalog/events.js';
import { parseDuration } from '../shared/duration.js';
import { PayloadError, readPayload } from '../load/payload.js';
import { buildTriggerContexts } from '../match/context.js';
import { deliveryRecordHint } from '../match/github.js';
import { createMatcher } from '../match/match.js';
import type { PlanOptions, PlanStep } from '../plan/plan.js';
import { formatFireJson, formatFireText, formatRunSummary, summarizeRuns, type FireDefinition, type FireReport } from '../report/fire-format.js';
import { createMasker } from '../shared/mask.js';
import { styleFor } from '../shared/style.js';
import { suggest } from '../shared/suggest.js';
import type { CheckedDefinition } from '../validate/check.js';
import { EXIT, UsageError } from '../shared/errors.js';
import { checkDefinitions, readDocument } from './validate.js';

export interface FireOptions {
  event: string;
  payload?: string;
  defs?: string[];
  input?: string[];
  at?: string;
  dryRun?: boolean;
  explain?: boolean;
  json?: boolean;
  quiet?: boolean;
  workdir?: string;
  containerRuntime: string;
  concurrency: string;
  timeout?: string;
  /** false with --no-cache. */
  cache?: boolean;
  /** --strict: a definition with warnings is treated as invalid and never fires. */
  strict?: boolean;
  /** --from-git: the push payload is built from the repository here, not read from --payload. */
  fromGit?: boolean;
  before?: string;
  after?: string;
  ref?: string;
  /** A payload built by the caller (trig's git hooks); --payload and --from-git are then ignored. */
  payloadObject?: Record<string, unknown>;
}

const INPUT = /^([A-Za-z_][A-Za-z0-9_.-]*)=([\s\S]*)$/;

export function parseInputs(pairs: readonly string[]): Record<string, string> {
  // Without a prototype: `--input constructor=…` or `__proto__=…` is a name like any other.
  const inputs: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const match = INPUT.exec(pair);
    if (!match) throw new UsageError(`--input "${pair}": expected key=value, with a key of letters, digits, _ . -`);
    inputs[match[1]!] = match[2]!;
  }
  return inputs;
}

export function parseAt(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const date = new Date(at);
  if (!/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--at "${at}": expected an ISO-8601 time such as 2026-11-23T09:00:00Z`);
  }
  return date;
}

export function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--concurrency "${text}": expected a positive whole number`);
  }
  return n;
}

export function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--timeout "${text}": expected a duration such as 500ms, 90s, 30m or 1h`);
  return ms;
}

function checkWorkdir(dir: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new UsageError(`--workdir "${dir}": no such directory`);
}

function checkEvent(event: string): void {
  if (eventSpec(event)) return;
  const guess = suggest(event, [...EVENT_NAMES]);
  throw new UsageError(`unknown event "${event}"${guess ? `; did you mean "${guess}"?` : ''} (see the event list in the README)`);
}

/**
 * `--input` names that no matched definition declares, nor reads as a trigger field it
 * falls back to: most likely a typo, which would leave the input its default.
 */
function unknownInputWarnings(given: readonly string[], declared: readonly string[], fallbacks: ReadonlySet<string>): string[] {
  const known = declared.length ? `declared inputs: ${declared.join(', ')}` : 'the matched definitions declare no inputs';
  return given
    .filter((name) => !declared.includes(name) && !fallbacks.has(name))
    .map((name) => {
      const guess = suggest(name, declared);
      return `--input "${name}": no matched definition declares it${guess ? `; did you mean "${guess}"?` : ''} (${known})`;
    });
}

/** Decides which definitions the event starts, plans them and (unless --dry-run) runs them. */
export async function runFire(options: FireOptions): Promise<number> {
  checkEvent(options.event);
  const inputs = parseInputs(options.input ?? []);
  const workdir = options.workdir ?? process.cwd();
  const at = parseAt(options.at);
  const concurrency = parseConcurrency(options.concurrency);
  const timeoutMs = parseTimeout(options.timeout);
  if (!options.dryRun) checkWorkdir(workdir);
  let payload: Record<string, unknown>;
  try {
    payload =
      options.payloadObject ??
      (options.fromGit || options.before !== undefined || options.after !== undefined || options.ref !== undefined
        ? (await import('../integrations/git/fire-from-git.js')).fromGitPayload(options)
        : await readPayload(options.payload));
  } catch (error) {
    if (error instanceof PayloadError) throw new UsageError(error.message);
    throw error;
  }
  const recordHint = deliveryRecordHint(payload);
  if (recordHint) process.stderr.write(`trig: warning: ${recordHint}\n`);
  const { checked } = await checkDefinitions(options.defs ?? [], options);

  const contexts = buildTriggerContexts(options.event, payload);
  const matcher = createMatcher({ at });
  const planOptions: PlanOptions = {
    inputs,
    env: process.env,
    workdir,
    containerRuntime: options.containerRuntime,
  };
  const secrets = new Set<string>();
  const definitions: FireDefinition[] = [];

  // The definitions of a file that cannot be read are unknown: they may be the ones this
  // event should start, so the fire fails (below) once the others have run.
  for (const diagnostic of checked.readErrors) {
    definitions.push({ file: diagnostic.file, name: diagnostic.file, valid: false, matched: false, reason: diagnostic.message, diagnostics: [diagnostic] });
  }
  for (const diagnostic of checked.syntaxErrors) {
    definitions.push({ file: diagnostic.file, name: diagnostic.file, valid: false, matched: false, reason: 'the file is not valid YAML', diagnostics: [diagnostic] });
  }
  for (const definition of checked.definitions) definitions.push(decide(definition));

  function decide(document: CheckedDefinition): FireDefinition {
    const base = { file: document.file, name: document.name };
    // Warnings alone never stop a definition, unless --strict says they should.
    const diagnostics = document.diagnostics.filter((d) => d.severity === 'error' || options.strict);
    if (diagnostics.length) {
      const problems = `${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}`;
      const reason = `not valid (${problems}${options.strict ? ', warnings included with --strict' : ''}); run trig validate${options.strict ? ' --strict' : ''}`;
      return { ...base, valid: false, matched: false, reason, diagnostics };
    }
    const decision = matcher.match(document.entries, contexts);
    if (!decision.matched || !decision.context) return { ...base, valid: true, matched: false, reason: decision.reason };
    const trigger = { ...decision.context.fields };
    if (decision.context.event === 'schedule' && trigger.scheduleName === undefined) trigger.scheduleName = document.name;
    return { ...base, valid: true, matched: true, event: decision.context.event, entry: decision.entry?.label, reason: decision.reason, trigger, checked: document };
  }

  // Planning (expressions, inputs, commands) is loaded, and the whole document of a
  // definition read, only when something matched: the every-minute schedule fire usually
  // matches nothing.
  const warnings: string[] = [];
  if (definitions.some((d) => d.matched)) {
    const { planRun } = await import('../plan/plan.js');
    const { inputNames } = await import('../plan/inputs.js');
    const declared = new Set<string>();
    const fallbacks = new Set<string>();
    for (const d of definitions) {
      if (!d.matched || !d.checked) continue;
      const document = await readDocument(checked, d.checked);
      const names = inputNames(document.body);
      names.declared.forEach((name) => declared.add(name));
      names.fallbacks.forEach((name) => fallbacks.add(name));
      const planned = planRun(document, d.trigger ?? {}, planOptions);
      if ('stop' in planned) {
        planned.secrets.forEach((s) => secrets.add(s));
        d.stopped = planned.stop;
      } else {
        planned.plan.secrets.forEach((s) => secrets.add(s));
        d.plan = planned.plan;
      }
    }
    warnings.push(...unknownInputWarnings(Object.keys(inputs), [...declared], fallbacks));
  }
  // --dry-run shows a plan's warnings (a secret without a value) in the plan; a run says them here.
  if (!options.dryRun) {
    for (const d of definitions) {
      if (!d.plan) continue;
      const where = `${d.file}: ${d.name}:`;
      for (const problem of d.plan.problems) warnings.push(`${where} ${problem}`);
      const visit = (steps: readonly PlanStep[], prefix: string): void => {
        for (const step of steps) {
          for (const problem of step.problems) warnings.push(`${where} step ${prefix}${step.name}: ${problem}`);
          if (step.steps) visit(step.steps, `${prefix}${step.name}/`);
        }
      };
      for (const stage of d.plan.stages) visit(stage.steps, '');
    }
  }

  const report: FireReport = { event: options.event, at: at.toISOString(), trigger: contexts[0]!.fields, definitions };
  const mask = createMasker(secrets);
  if (!options.quiet) for (const warning of warnings) process.stderr.write(`trig: warning: ${mask(warning)}\n`);
  const textOptions = { explain: Boolean(options.explain), plans: Boolean(options.dryRun), quiet: Boolean(options.quiet) };
  if (options.dryRun) {
    // Masked in the report's values, never in the text: see maskDeep.
    process.stdout.write(options.json ? formatFireJson(report, mask) : formatFireText(report, textOptions, await styleFor(process.stdout), mask));
    return checked.readErrors.length ? EXIT.problems : EXIT.ok;
  }

  // With --json, standard output is the one JSON document: the runs' lines go to stderr.
  const stream = options.json ? process.stderr : process.stdout;
  const style = await styleFor(stream);
  if (!options.json) process.stdout.write(formatFireText(report, textOptions, style, mask));
  const runnable = definitions.filter((d) => d.plan);
  let signalExit: number | undefined;
  let signal: string | undefined;
  let durationMs = 0;
  if (runnable.length) {
    // Loaded only here, so that a fire that matches nothing never loads execa.
    const { executeRuns, backlogOf, SIGNAL_EXIT } = await import('../execute/execute.js');
    const executed = await executeRuns(
      runnable.map((d) => ({ definition: d.name, event: d.event ?? options.event, trigger: d.trigger ?? {}, plan: d.plan! })),
      { concurrency, timeoutMs, workdir, env: process.env, payload, write: (text) => stream.write(text), backlog: backlogOf(stream), style, mask, quiet: Boolean(options.quiet) },
    );
    runnable.forEach((d, i) => (d.run = executed.runs[i]));
    signal = executed.signal;
    if (signal) signalExit = SIGNAL_EXIT[signal] ?? 128;
    durationMs = executed.durationMs;
  }

  const matched = definitions.filter((d) => d.matched);
  // A matched definition that could not start (a required input without a value) fails the
  // fire like a failed run: the event asked for work that did not happen.
  const failed = matched.some((d) => !d.run || (d.run.status !== 'succeeded' && d.run.status !== 'skipped'));
  report.summary = summarizeRuns(definitions, durationMs, signal);
  if (options.json) {
    process.stdout.write(formatFireJson(report, mask));
  } else if (matched.length && (!options.quiet || failed)) {
    process.stdout.write(formatRunSummary(report.summary, style));
  }
  if (signalExit !== undefined) return signalExit;
  return failed || checked.readErrors.length ? EXIT.problems : EXIT.ok;
}
