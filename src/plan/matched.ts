// The plan stage of a fire: the run plans of the definitions an event matched, the
// secrets to mask in everything said about them, and the warnings about the inputs given.
// Loaded only when something matched (see src/fire/fire.ts).

import type { Definition } from '../load/definition.js';
import type { MatchedDecision } from '../match/decide.js';
import { suggest } from '../shared/suggest.js';
import { inputNames } from './inputs.js';
import { planRun, type PlanOptions, type PlanResult, type PlanStep, type RunPlan } from './plan.js';

export interface MatchedDocument {
  decision: MatchedDecision;
  /** The definition's whole document. */
  document: Definition;
}

export interface MatchedPlans {
  /** One per matched definition, in order: its plan, or why it cannot run. */
  planned: PlanResult[];
  /** Every secret value the plans resolved, planned or stopped. */
  secrets: string[];
  /** `--input` names no matched definition has a use for. */
  warnings: string[];
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

export function planMatched(matched: readonly MatchedDocument[], options: PlanOptions): MatchedPlans {
  const declared = new Set<string>();
  const fallbacks = new Set<string>();
  const secrets = new Set<string>();
  const planned = matched.map(({ decision, document }) => {
    const names = inputNames(document.body);
    names.declared.forEach((name) => declared.add(name));
    names.fallbacks.forEach((name) => fallbacks.add(name));
    const result = planRun(document, decision.trigger, options);
    ('stop' in result ? result.secrets : result.plan.secrets).forEach((s) => secrets.add(s));
    return result;
  });
  return { planned, secrets: [...secrets], warnings: unknownInputWarnings(Object.keys(options.inputs), [...declared], fallbacks) };
}

/** A plan's problems (a secret without a value), as warnings naming the definition and step. */
export function planWarnings(file: string, name: string, plan: RunPlan): string[] {
  const where = `${file}: ${name}:`;
  const warnings = plan.problems.map((problem) => `${where} ${problem}`);
  const visit = (steps: readonly PlanStep[], prefix: string): void => {
    for (const step of steps) {
      for (const problem of step.problems) warnings.push(`${where} step ${prefix}${step.name}: ${problem}`);
      if (step.steps) visit(step.steps, `${prefix}${step.name}/`);
    }
  };
  for (const stage of plan.stages) visit(stage.steps, '');
  return warnings;
}
