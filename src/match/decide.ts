// The decision about each definition for one event: whether it is valid, whether it
// matched, on which entry, and why (or why not). The fire core's first stage; it does no I/O.

import type { Diagnostic } from '../shared/diagnostic.js';
import { plural } from '../shared/records.js';
import type { CheckedDefinition, CheckResult } from '../validate/check.js';
import type { TriggerContext } from './context.js';
import { createMatcher } from './match.js';

interface DecisionBase {
  file: string;
  name: string;
  reason: string;
}

/** Never fires: its file could not be read or parsed, or it has errors (warnings too with --strict). */
export interface InvalidDecision extends DecisionBase {
  valid: false;
  matched: false;
  diagnostics: Diagnostic[];
}

export interface UnmatchedDecision extends DecisionBase {
  valid: true;
  matched: false;
  /** It matched, but the chain of runs that led to the event stopped it (fire/chain.ts). */
  chainStopped?: true;
}

export interface MatchedDecision extends DecisionBase {
  valid: true;
  matched: true;
  /** The event that matched: the fired one, or one derived from it (comment_mention). */
  event: string;
  /** The label of the `on:` entry that matched. */
  entry?: string;
  /** What `<+trigger.*>` reads in this definition (the raw payload included). */
  trigger: Record<string, unknown>;
  /** The checked definition, for reading its whole document to plan the run. */
  definition: CheckedDefinition;
}

export type Decision = InvalidDecision | UnmatchedDecision | MatchedDecision;

export interface DecideOptions {
  /** The time of the event: which schedules are due. */
  at: Date;
  /** --strict: a definition with warnings is treated as invalid and never fires. */
  strict: boolean;
}

/**
 * One decision per definition, in the order files were read: first the files that could
 * not be read, then those that are not YAML, then every definition of the others.
 */
export function decideDefinitions(
  checked: Pick<CheckResult, 'readErrors' | 'syntaxErrors' | 'definitions'>,
  contexts: readonly TriggerContext[],
  options: DecideOptions,
): Decision[] {
  const decisions: Decision[] = [];
  // The definitions of a file that cannot be read are unknown: they may be the ones this
  // event should start, so the fire fails once the others have run.
  for (const diagnostic of checked.readErrors) {
    decisions.push({
      file: diagnostic.file,
      name: diagnostic.file,
      valid: false,
      matched: false,
      reason: diagnostic.message,
      diagnostics: [diagnostic],
    });
  }
  for (const diagnostic of checked.syntaxErrors) {
    decisions.push({
      file: diagnostic.file,
      name: diagnostic.file,
      valid: false,
      matched: false,
      reason: 'the file is not valid YAML',
      diagnostics: [diagnostic],
    });
  }
  const matcher = createMatcher({ at: options.at });
  const contextList = [...contexts];
  for (const definition of checked.definitions) {
    const base = { file: definition.file, name: definition.name };
    // Warnings alone never stop a definition, unless --strict says they should.
    const diagnostics = definition.diagnostics.filter((d) => d.severity === 'error' || options.strict);
    if (diagnostics.length) {
      const problems = plural(diagnostics.length, 'problem');
      const reason = `not valid (${problems}${options.strict ? ', warnings included with --strict' : ''}); run trig validate${options.strict ? ' --strict' : ''}`;
      decisions.push({ ...base, valid: false, matched: false, reason, diagnostics });
      continue;
    }
    const decision = matcher.match(definition.entries, contextList);
    if (!decision.matched || !decision.context) {
      decisions.push({ ...base, valid: true, matched: false, reason: decision.reason });
      continue;
    }
    const trigger = { ...decision.context.fields };
    if (decision.context.event === 'schedule' && trigger.scheduleName === undefined) trigger.scheduleName = definition.name;
    decisions.push({
      ...base,
      valid: true,
      matched: true,
      event: decision.context.event,
      ...(decision.entry ? { entry: decision.entry.label } : {}),
      reason: decision.reason,
      trigger,
      definition,
    });
  }
  return decisions;
}
