import { EVENT_NAMES, eventSpec } from '../catalog/events.js';
import type { LoadedDocument } from '../load/load.js';
import { PayloadError, readPayload } from '../load/payload.js';
import { buildTriggerContexts } from '../match/context.js';
import { createMatcher } from '../match/match.js';
import { planRun, type PlanOptions } from '../plan/plan.js';
import { formatFireJson, formatFireText, type FireDefinition, type FireReport } from '../report/fire-format.js';
import { createMasker } from '../report/mask.js';
import { styleFor } from '../report/style.js';
import { suggest } from '../validate/schema-errors.js';
import { validateDocument } from '../validate/validate.js';
import { EXIT, UsageError } from './errors.js';
import { loadDefinitions } from './validate.js';

export interface FireOptions {
  event: string;
  payload?: string;
  defs?: string[];
  input: string[];
  at?: string;
  dryRun?: boolean;
  explain?: boolean;
  json?: boolean;
  quiet?: boolean;
  workdir: string;
  containerRuntime: string;
  concurrency: string;
  timeout?: string;
}

const INPUT = /^([A-Za-z_][A-Za-z0-9_.-]*)=([\s\S]*)$/;

export function parseInputs(pairs: readonly string[]): Record<string, string> {
  const inputs: Record<string, string> = {};
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

function checkEvent(event: string): void {
  if (eventSpec(event)) return;
  const guess = suggest(event, [...EVENT_NAMES]);
  throw new UsageError(`unknown event "${event}"${guess ? `; did you mean "${guess}"?` : ''} (see the event list in the README)`);
}

/** Decides which definitions the event starts, plans them and (unless --dry-run) runs them. */
export async function runFire(options: FireOptions): Promise<number> {
  checkEvent(options.event);
  const inputs = parseInputs(options.input);
  const at = parseAt(options.at);
  let payload: Record<string, unknown>;
  try {
    payload = await readPayload(options.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new UsageError(error.message);
    throw error;
  }
  const { loaded } = loadDefinitions(options.defs ?? []);

  const contexts = buildTriggerContexts(options.event, payload);
  const matcher = createMatcher({ at });
  const planOptions: PlanOptions = {
    inputs,
    env: process.env,
    workdir: options.workdir,
    containerRuntime: options.containerRuntime,
  };
  const secrets = new Set<string>();
  const definitions: FireDefinition[] = [];

  for (const diagnostic of loaded.diagnostics) {
    definitions.push({ file: diagnostic.file, name: diagnostic.file, valid: false, matched: false, reason: 'the file is not valid YAML', diagnostics: [diagnostic] });
  }
  for (const document of loaded.documents) definitions.push(decide(document));

  function decide(document: LoadedDocument): FireDefinition {
    const base = { file: document.file, name: document.name };
    const diagnostics = validateDocument(document).filter((d) => d.severity === 'error');
    if (diagnostics.length) {
      return { ...base, valid: false, matched: false, reason: `not valid (${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}); run trig validate`, diagnostics };
    }
    const decision = matcher.match(document.entries, contexts);
    if (!decision.matched || !decision.context) return { ...base, valid: true, matched: false, reason: decision.reason };
    const trigger = { ...decision.context.fields };
    if (decision.context.event === 'schedule' && trigger.scheduleName === undefined) trigger.scheduleName = document.name;
    const result: FireDefinition = {
      ...base,
      valid: true,
      matched: true,
      event: decision.context.event,
      entry: decision.entry?.label,
      reason: decision.reason,
      trigger,
      document,
    };
    const planned = planRun(document, trigger, planOptions);
    if ('stop' in planned) {
      planned.secrets.forEach((s) => secrets.add(s));
      return { ...result, stopped: planned.stop };
    }
    planned.plan.secrets.forEach((s) => secrets.add(s));
    return { ...result, plan: planned.plan };
  }

  const report: FireReport = { event: options.event, at: at.toISOString(), trigger: contexts[0]!.fields, definitions };
  const mask = createMasker(secrets);
  // Until runs are launched by the execute stage, fire shows the decision and the plans.
  const out = options.json ? formatFireJson(report) : formatFireText(report, { explain: Boolean(options.explain), plans: true, quiet: Boolean(options.quiet) }, await styleFor(process.stdout));
  process.stdout.write(mask(out));
  return EXIT.ok;
}
