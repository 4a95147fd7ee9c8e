import { durationGuess, parseDuration } from '../../shared/duration.js';
import { actionName } from '../../shared/retry.js';
import { mapsUnder, type Rule } from './rule.js';

// The settings of an on-failure `manual-intervention` (an action, or a retry's
// failure-action) that trig could not carry out as written: the schema knows their types,
// this rule their values.

/** Failure actions trig does not carry out: as a timeout-action, each ends the run failed (as `abort`). */
const NOT_DONE = ['pipeline-rollback', 'stage-rollback', 'retry-step-group'];

export const manualIntervention: Rule = {
  name: 'manual-intervention',
  description:
    'an on-failure `manual-intervention` trig cannot carry out as written: a `timeout` that is not a duration (`30 min` → did you mean `30m`?), a `timeout-action` that waits for a person again; a rollback as `timeout-action` is a warning (trig aborts the run instead)',
  check(document, report) {
    if (!document.root || !document.body) return;
    for (const [settings, path] of mapsUnder('manual-intervention', document.body, [document.root])) {
      const timeout = settings.timeout;
      if (timeout !== undefined && !(typeof timeout === 'number' ? timeout > 0 : typeof timeout === 'string' && parseDuration(timeout))) {
        const guess = typeof timeout === 'string' ? durationGuess(timeout) : undefined;
        report({
          path: [...path, 'timeout'],
          message: `${JSON.stringify(timeout)} is not a duration such as 30m, 24h or 2d${guess ? `; did you mean "${guess}"?` : ''}`,
        });
      }
      const action = actionName(settings['timeout-action']);
      if (action === 'manual-intervention')
        report({
          path: [...path, 'timeout-action'],
          message: "a manual intervention's timeout-action cannot wait for a person again: say what happens then (fail, ignore, retry)",
        });
      else if (action !== undefined && NOT_DONE.includes(action))
        report({
          path: [...path, 'timeout-action'],
          severity: 'warning',
          message: `trig does not carry out ${action}: when nobody decides in time, the run ends failed (as with abort)`,
        });
    }
  },
};
