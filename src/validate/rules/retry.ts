import type { DocPath } from '../../load/triggers.js';
import { durationGuess, parseDuration } from '../../shared/duration.js';
import { MAX_RETRY_ATTEMPTS, RETRY_DEFAULTS, retryAttempts } from '../../shared/retry.js';
import { isRecord, mapsUnder, type Rule, type RuleProblem } from './rule.js';

// The settings of an on-failure `retry` that trig could not carry out as written: the
// schema knows their types, this rule their values.

const isExpression = (value: unknown): boolean => typeof value === 'string' && /^<\+.*>$/s.test(value.trim());

function checkRetry(settings: Record<string, unknown>, path: DocPath, report: (problem: RuleProblem) => void): void {
  const { attempts, interval } = settings;
  if (attempts !== undefined && retryAttempts(attempts) === undefined) {
    report(
      isExpression(attempts)
        ? {
            path: [...path, 'attempts'],
            severity: 'warning',
            message: `trig does not resolve expressions in a retry's attempts: it retries ${RETRY_DEFAULTS.attempts} times; write a number`,
          }
        : {
            path: [...path, 'attempts'],
            message: `attempts must be a whole number from 1 to ${MAX_RETRY_ATTEMPTS} (the retries after the first failure)`,
          },
    );
  }
  if (Array.isArray(interval) && interval.length === 0) {
    report({ path: [...path, 'interval'], message: 'interval is an empty list: give one duration or a list of them' });
  }
  for (const [i, value] of Array.isArray(interval) ? interval.entries() : interval === undefined ? [] : [[-1, interval] as const]) {
    const at = i === -1 ? [...path, 'interval'] : [...path, 'interval', i];
    if (typeof value === 'number' ? value > 0 : typeof value === 'string' && parseDuration(value) !== undefined) continue;
    const guess = typeof value === 'string' ? durationGuess(value) : undefined;
    report({
      path: at,
      message: `${JSON.stringify(value)} is not a duration such as 500ms, 10s, 1m or 1h30m${guess ? `; did you mean "${guess}"?` : ''}`,
    });
  }
  const failureAction = settings['failure-action'];
  if (failureAction === 'retry' || (isRecord(failureAction) && 'retry' in failureAction)) {
    report({
      path: [...path, 'failure-action'],
      message: "a retry's failure-action cannot retry again: raise attempts (or list more intervals) instead",
    });
  } else checkAction(failureAction, [...path, 'failure-action'], report);
}

/** A failure action: `retry: {…}` is checked; `manual-intervention`'s timeout-action may hold one. */
function checkAction(action: unknown, path: DocPath, report: (problem: RuleProblem) => void): void {
  if (!isRecord(action)) return;
  if (isRecord(action.retry)) checkRetry(action.retry, [...path, 'retry'], report);
  const manual = action['manual-intervention'];
  if (isRecord(manual)) checkAction(manual['timeout-action'], [...path, 'manual-intervention', 'timeout-action'], report);
}

export const retry: Rule = {
  name: 'retry',
  description:
    'an on-failure `retry` trig cannot carry out as written: `attempts` that is not a whole number from 1 to 100, an `interval` that is not a duration (`10 sec` → did you mean `10s`?) or an empty list, a `failure-action` that retries again; an expression as `attempts` is a warning (trig uses the default)',
  check(document, report) {
    if (!document.root || !document.body) return;
    for (const [strategy, path] of mapsUnder('on-failure', document.body, [document.root]))
      checkAction(strategy.action, [...path, 'action'], report);
  },
};
