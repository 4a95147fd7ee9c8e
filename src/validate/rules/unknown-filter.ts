import { eventSpec } from '../../catalog/events.js';
import { suggest } from '../../shared/suggest.js';
import { entryPath, type Rule } from './rule.js';

export const unknownFilter: Rule = {
  name: 'unknown-filter',
  description: "a filter the event does not have (`pipeline_failed: {services: …}`), with the event's own filters",
  check(document, report) {
    for (const entry of document.entries) {
      const spec = eventSpec(entry.event);
      if (!spec) continue; // unknown-event reports it
      const known = Object.keys(spec.filters);
      for (const key of Object.keys(entry.filters)) {
        if (known.includes(key)) continue;
        const guess = suggest(key, known);
        const message =
          known.length === 0
            ? `${entry.event} has no filter "${key}": it takes no filters`
            : guess
              ? `${entry.event} has no filter "${key}"; did you mean "${guess}"?`
              : `${entry.event} has no filter "${key}"; its filters are ${known.join(', ')}`;
        report({ path: [...entryPath(document, entry), key], at: 'key', message });
      }
    }
  },
};
