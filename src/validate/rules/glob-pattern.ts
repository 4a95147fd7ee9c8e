import { eventSpec, PATTERN_FILTER_KINDS } from '../../catalog/events.js';
import type { DocPath } from '../../load/triggers.js';
import { patternProblem } from '../../lang/glob.js';
import { entryPath, type Rule } from './rule.js';


export const globPattern: Rule = {
  name: 'glob-pattern',
  description:
    'Every pattern of a pattern filter (branches, tags, paths, repos, services, … and their -ignore forms) is a ' +
    'working filter pattern. A pattern that can match nothing (empty, `[]`, a reversed range) or uses a form ' +
    "GitHub's documentation does not define (a class member that is no letter or digit, `?`/`+` with nothing to " +
    'repeat as in `*+` or `a??`, an unclosed `[`) is an error; one that matches, but likely not as meant ' +
    '(regular-expression syntax such as `^main$` or `.*`), is a warning.',
  check(document, report) {
    for (const entry of document.entries) {
      const spec = eventSpec(entry.event);
      if (!spec) continue;
      for (const [key, value] of Object.entries(entry.filters)) {
        const filter = spec.filters[key];
        if (!filter || !PATTERN_FILTER_KINDS.includes(filter.kind)) continue;
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
