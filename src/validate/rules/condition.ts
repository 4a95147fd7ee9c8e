import type { DocPath } from '../../load/triggers.js';
import { conditionProblem } from '../../lang/condition.js';
import { isRecord, type Rule } from './rule.js';

// Maps under these keys are data handed to steps (`env`, a plugin's `with`, input
// declarations): an `if` key there is a value's name, not a condition.
const DATA_KEYS = new Set(['env', 'with', 'inputs']);

/** Every `if:` string of the definition body (its own, its stages' and steps', nested ones), with its path. */
function* conditions(value: unknown, path: DocPath): Generator<[string, DocPath]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* conditions(item, [...path, i]);
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'if' && typeof item === 'string') yield [item, [...path, key]];
      else if (!DATA_KEYS.has(key)) yield* conditions(item, [...path, key]);
    }
  }
}

export const condition: Rule = {
  name: 'condition',
  description:
    'an `if:` condition (of the definition, a stage or a step) that does not parse as trig evaluates it (`=` ' +
    "for `==`, `and` for `&&`, an unquoted string, a missing `)`), at the part at fault; `${{ … }}` (GitHub's " +
    "syntax, used by the upstream spec's samples) is a warning saying trig evaluates `<+…>` conditions: the " +
    'step fails when a run reaches it',
  check(document, report) {
    if (!document.root || !document.body) return;
    for (const [text, path] of conditions(document.body, [document.root])) {
      const problem = conditionProblem(text);
      if (!problem) continue;
      // `${{ … }}` is the upstream spec's own expression syntax (its samples use it), so a
      // definition holding it is valid; trig only cannot evaluate it, and says so.
      report({
        path,
        within: { start: problem.start, end: problem.end },
        message: `if: ${problem.message}${problem.foreign ? '; the step fails when a run reaches it' : ''}`,
        severity: problem.foreign ? 'warning' : 'error',
      });
    }
  },
};
