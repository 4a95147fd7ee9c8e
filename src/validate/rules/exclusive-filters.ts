import { eventSpec } from '../../catalog/events.js';
import { entryPath, type Rule } from './rule.js';

export const exclusiveFilters: Rule = {
  name: 'exclusive-filters',
  description: '`branches` with `branches-ignore` (likewise `tags`, `paths`) on one event',
  check(document, report) {
    for (const entry of document.entries) {
      const spec = eventSpec(entry.event);
      if (!spec) continue;
      const keys = Object.keys(entry.filters);
      for (const [i, key] of keys.entries()) {
        const other = spec.filters[key]?.exclusiveWith;
        if (!other || !keys.slice(0, i).includes(other)) continue;
        const positive = key.endsWith('-ignore') ? other : key;
        report({
          path: [...entryPath(document, entry), key],
          at: 'key',
          message: `${entry.event} cannot have both "${other}" and "${key}"; use "${positive}" alone and exclude with "!" patterns`,
        });
      }
    }
  },
};
