import { eventSpec } from '../../catalog/events.js';
import { FILTER_KINDS } from '../../catalog/filter-kinds.js';
import { entryPath, type Rule } from './rule.js';

// Events whose GitHub deliveries carry no list of changed files, though the catalog gives
// them path filters (as GitHub Actions does, which fetches the files from the API).
const WITHOUT_FILES = ['pull_request', 'pull_request_target'];

export const pullRequestPaths: Rule = {
  name: 'pull-request-paths',
  description:
    "`paths` / `paths-ignore` on `pull_request` or `pull_request_target` (warning): GitHub's deliveries of " +
    'these events list no changed files, so the filter never passes unless the sender adds a `changedFiles` ' +
    'array to the payload',
  check(document, report) {
    for (const entry of document.entries) {
      if (!WITHOUT_FILES.includes(entry.event)) continue;
      const spec = eventSpec(entry.event);
      for (const key of Object.keys(entry.filters)) {
        const filter = spec?.filters[key];
        // Path filters, whichever their kind: those that read the list of changed files.
        if (!filter || FILTER_KINDS[filter.kind].reads !== 'files') continue;
        report({
          path: [...entryPath(document, entry), key],
          at: 'key',
          severity: 'warning',
          message:
            `GitHub's ${entry.event} deliveries list no changed files, and without them "${key}" never passes: ` +
            `add them to the payload as a "${filter.field}" array (e.g. from gh pr diff --name-only)`,
        });
      }
    }
  },
};
