import { EVENT_NAMES } from '../../catalog/events.js';
import { suggest } from '../../shared/suggest.js';
import type { Rule } from './rule.js';

export const unknownEvent: Rule = {
  name: 'unknown-event',
  description: 'an event name the catalog does not know, with did-you-mean (`pipline_failed` → `pipeline_failed`)',
  check(document, report) {
    if (!document.root) return;
    for (const entry of document.entries) {
      if (EVENT_NAMES.includes(entry.event)) continue;
      const guess = suggest(entry.event, [...EVENT_NAMES]);
      report({
        path: [document.root, ...entry.path],
        at: entry.at,
        message: `unknown event "${entry.event}"${guess ? `; did you mean "${guess}"?` : ''}`,
      });
    }
  },
};
