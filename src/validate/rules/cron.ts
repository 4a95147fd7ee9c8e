import { cronProblem, timezoneProblem } from '../../lang/cron.js';
import { parseDuration } from '../../shared/duration.js';
import { entryPath, isRecord, type Rule } from './rule.js';

export const cron: Rule = {
  name: 'cron',
  description:
    'cron expressions that are not five valid fields (checked with croner), unknown time zones, a `schedule` ' +
    'without `cron`, a `catch-up` that is not a duration (or is shorter than the minute cron ticks at)',
  check(document, report) {
    for (const entry of document.entries) {
      if (entry.event !== 'schedule') continue;
      const path = entryPath(document, entry);
      // One schedule, or a list of them (GitHub's form).
      const items = Array.isArray(entry.raw) ? entry.raw.map((item, i) => ({ item, path: [...path, i] })) : [{ item: entry.filters, path }];
      for (const { item, path: itemPath } of items) {
        const { cron: expr, timezone } = isRecord(item) ? item : ({} as Record<string, unknown>);
        if (expr === undefined) {
          report({
            path: itemPath,
            at: itemPath === path ? entry.at : 'value',
            message: 'schedule needs a "cron" expression, e.g. schedule: {cron: "0 9 * * MON"}',
          });
          continue;
        }
        if (typeof expr === 'string') {
          const problem = cronProblem(expr);
          if (problem) report({ path: [...itemPath, 'cron'], message: problem });
        }
        if (typeof timezone === 'string') {
          const problem = timezoneProblem(timezone);
          if (problem) report({ path: [...itemPath, 'timezone'], message: problem });
        }
        const catchUp = isRecord(item) ? item['catch-up'] : undefined;
        if (typeof catchUp === 'string') {
          const ms = parseDuration(catchUp);
          if (ms === undefined) {
            report({
              path: [...itemPath, 'catch-up'],
              message: `catch-up ${JSON.stringify(catchUp)} is not a duration; write one such as 30m, 6h or 2d`,
            });
          } else if (ms < 60_000) {
            report({
              path: [...itemPath, 'catch-up'],
              severity: 'warning',
              message: `catch-up ${JSON.stringify(catchUp)} is shorter than a minute, so no missed time is ever within it; write 1m or more`,
            });
          }
        }
      }
    }
  },
};
