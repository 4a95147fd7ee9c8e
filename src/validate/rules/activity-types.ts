import { eventSpec } from '../../catalog/events.js';
import type { DocPath } from '../../load/triggers.js';
import { suggest } from '../../shared/suggest.js';
import { entryPath, type Rule } from './rule.js';

export const activityTypes: Rule = {
  name: 'activity-types',
  description:
    'a `types:` value the event does not have (`types: [open]` → did you mean `opened`?; the event reference ' +
    'lists each event\'s types), one string holding several (`types: "opened, synchronize"`: write a list), ' +
    '`types` on an event with no activity types (`create`, `fork`, …)',
  check(document, report) {
    for (const entry of document.entries) {
      const spec = eventSpec(entry.event);
      const known = spec?.activityTypes;
      if (!spec || !known) continue; // unknown events are unknown-event's; repository_dispatch takes any type
      for (const [key, value] of Object.entries(entry.filters)) {
        if (spec.filters[key]?.kind !== 'types') continue;
        const base = [...entryPath(document, entry), key];
        if (known.length === 0) {
          report({
            path: base,
            at: 'key',
            message: `${entry.event} has no activity types (its deliveries carry no "action"), so "${key}" can never match; remove it`,
          });
          continue;
        }
        const items: [unknown, DocPath][] = Array.isArray(value) ? value.map((v, i) => [v, [...base, i]]) : [[value, base]];
        for (const [item, path] of items) {
          if (typeof item !== 'string') continue; // the schema reports non-strings
          const parts = item.split(/[\s,]+/).filter(Boolean);
          if (parts.length > 1) {
            report({
              path,
              message: `"${item}" is one ${key} value, which no event has; list the types instead: ${key}: [${parts.join(', ')}]`,
            });
            continue;
          }
          if (known.includes(item)) continue;
          const guess = suggest(item, known);
          report({
            path,
            message: guess
              ? `${entry.event} has no activity type "${item}"; did you mean "${guess}"?`
              : `${entry.event} has no activity type "${item}"; its types are ${known.join(', ')}`,
          });
        }
      }
    }
  },
};
