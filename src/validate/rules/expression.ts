import { eventFields, eventSpec } from '../../catalog/events.js';
import type { DocPath } from '../../load/triggers.js';
import { KNOWN_NAMESPACES, RESOLVABLE_NAMESPACES, scanExpressions } from '../../lang/expressions.js';
import { suggest } from '../../shared/suggest.js';
import type { Severity } from '../../shared/diagnostic.js';
import { isRecord, type Rule } from './rule.js';

/** Every string value in `value` with its path; map keys are names, not values, and are skipped. */
function* strings(value: unknown, path: DocPath): Generator<[string, DocPath]> {
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, [...path, i]);
  else if (isRecord(value)) for (const [key, item] of Object.entries(value)) yield* strings(item, [...path, key]);
}

const didYouMean = (guess: string | undefined) => (guess ? `; did you mean "${guess}"?` : '');

export const expression: Rule = {
  name: 'expression',
  description:
    'malformed `<+…>` (including `<+…>` nested more than 16 levels deep, one error for the whole nest), ' +
    'unknown namespaces (warning; error for a near miss such as `triger`), `<+inputs.x>` of an undeclared ' +
    "input; `<+trigger.x>` that none of the definition's events lists in the catalog is a warning (unless an " +
    'input `x` exists: it is the fallback), since a payload may carry more fields than the catalog lists: the ' +
    'run resolves it from the payload, else from an input `x`',
  check(document, report) {
    const body = document.body;
    const inputs = isRecord(body?.inputs) ? Object.keys(body.inputs) : [];
    const events = [...new Set(document.entries.map((e) => e.event))];
    // With no event, or one the catalog does not know (unknown-event says so), what the
    // trigger carries is not known, so trigger fields are not checked.
    const checkTrigger = body !== undefined && events.length > 0 && events.every((e) => eventSpec(e));
    const carried = [...new Set(events.flatMap((e) => eventFields(e)))];

    for (const [text, path] of strings(document.value, [])) {
      for (const found of scanExpressions(text)) {
        const problem = (message: string, severity: Severity = 'error') =>
          report({ path, within: { start: found.start, end: found.end }, message, severity });
        if (found.error) {
          problem(found.error);
          continue;
        }
        if (!found.ref) continue;
        const { namespace, path: refPath } = found.ref;
        const field = refPath[0];
        if (!KNOWN_NAMESPACES.includes(namespace)) {
          // Harness resolves namespaces trig has never heard of (the upstream samples use
          // <+terraform.…>), so only a near miss of trig's own namespaces is certain to be wrong.
          const guess = suggest(namespace, KNOWN_NAMESPACES);
          const severity = guess && RESOLVABLE_NAMESPACES.includes(guess) ? 'error' : 'warning';
          problem(`${found.raw}: unknown expression namespace "${namespace}"${didYouMean(guess)}`, severity);
        } else if (namespace === 'trigger' && checkTrigger && field !== undefined && !carried.includes(field) && !inputs.includes(field)) {
          // A warning: a payload may carry more than the catalog lists, and such a field
          // then resolves; the run says so when it does not.
          const which =
            events.length === 1
              ? `this definition's event (${events[0]}) does not list`
              : `none of this definition's events (${events.join(', ')}) lists`;
          problem(
            `${found.raw}: ${which} "${field}"${didYouMean(suggest(field, carried))} (it resolves only if the payload carries it, or from an input "${field}")`,
            'warning',
          );
        } else if (namespace === 'inputs' && body !== undefined && field !== undefined && !inputs.includes(field)) {
          problem(
            inputs.length === 0
              ? `${found.raw}: the definition declares no inputs`
              : `${found.raw}: the definition declares no input "${field}"${didYouMean(suggest(field, inputs))}`,
          );
        }
      }
    }
  },
};
