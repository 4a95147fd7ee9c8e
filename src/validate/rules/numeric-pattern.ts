import { isScalar, isSeq } from 'yaml';
import { eventSpec } from '../../catalog/events.js';
import { isPatternFilter } from '../../catalog/filter-kinds.js';
import type { DocPath } from '../../load/triggers.js';
import { entryPath, type Rule } from './rule.js';

export const numericPattern: Rule = {
  name: 'numeric-pattern',
  description:
    'a filter pattern written as a YAML number (`branches: [2]`, `tags: [1.10]`): trig takes it as written ' +
    '(`1.10`, not the `1.1` YAML reads), in validation and matching alike; a warning to quote it',
  check(document, report) {
    for (const entry of document.entries) {
      const spec = eventSpec(entry.event);
      if (!spec) continue;
      for (const key of Object.keys(entry.filters)) {
        if (!isPatternFilter(spec.filters[key])) continue;
        const base = [...entryPath(document, entry), key];
        const node = document.doc.getIn(base, true);
        const items: [unknown, DocPath][] = isSeq(node) ? node.items.map((item, i) => [item, [...base, i]]) : [[node, base]];
        for (const [item, path] of items) {
          if (!isScalar(item) || typeof item.value !== 'number' || !item.range) continue;
          const written = document.source.text.slice(item.range[0], item.range[1]);
          const read = String(item.value);
          report({
            path,
            severity: 'warning',
            message:
              `${key} pattern ${written} is a YAML number${read !== written ? ` (${read} to other YAML readers)` : ''}; ` +
              `trig takes it as written, "${written}": quote it to say so`,
          });
        }
      }
    }
  },
};
