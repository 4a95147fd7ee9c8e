import { cronProblem, timezoneProblem } from '../../match/schedule.js';
import { entryPath, type Rule } from './rule.js';

export const cron: Rule = {
  name: 'cron',
  description:
    '`schedule` has a `cron` expression of five fields that croner accepts, and its `timezone`, when given, is an ' +
    'IANA time zone; a `schedule` without `cron` never fires.',
  check(document, report) {
    for (const entry of document.entries) {
      if (entry.event !== 'schedule') continue;
      const path = entryPath(document, entry);
      const { cron: expr, timezone } = entry.filters;
      if (expr === undefined) {
        report({ path, at: entry.at, message: 'schedule needs a "cron" expression, e.g. schedule: {cron: "0 9 * * MON"}' });
        continue;
      }
      if (typeof expr === 'string') {
        const problem = cronProblem(expr);
        if (problem) report({ path: [...path, 'cron'], message: problem });
      }
      if (typeof timezone === 'string') {
        const problem = timezoneProblem(timezone);
        if (problem) report({ path: [...path, 'timezone'], message: problem });
      }
    }
  },
};
