import { eventSpec } from '../../catalog/events.js';
import { isPatternFilter } from '../../catalog/filter-kinds.js';
import type { DocPath } from '../../load/triggers.js';
import { patternProblem } from '../../lang/glob.js';
import { entryPath, type Rule } from './rule.js';

export const globPattern: Rule = {
  name: 'glob-pattern',
  description:
    "filter patterns that cannot match (empty, `[]`, a reversed range) or use a form GitHub's documentation " +
    'does not define (a `[…]` member that is not a letter or digit, `?`/`+` with nothing to repeat as in ' +
    '`*+`, `*?`, `a??`, `++`, an unclosed `[`): errors; patterns that look like regular expressions: warnings',
  check(document, report) {
    for (const entry of document.entries) {
      const spec = eventSpec(entry.event);
      if (!spec) continue;
      for (const [key, value] of Object.entries(entry.filters)) {
        if (!isPatternFilter(spec.filters[key])) continue;
        const base = [...entryPath(document, entry), key];
        const items: [unknown, DocPath][] = Array.isArray(value) ? value.map((v, i) => [v, [...base, i]]) : [[value, base]];
        for (const [pattern, path] of items) {
          if (typeof pattern !== 'string') continue; // the schema reports non-strings
          const problem = patternProblem(pattern);
          if (!problem) continue;
          report({
            path,
            message: `${key} pattern "${pattern}": ${problem.message}`,
            severity: problem.severity,
          });
        }
      }
    }
  },
};
