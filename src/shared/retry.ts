// The settings of on-failure `retry` and `manual-intervention` that the plan (which fills
// them in), the rules (which check them), the executor (which carries them out) and the
// store (which keeps them while a run waits) read.

import { isRecord } from './records.js';

/** What the short form `action: retry` means, and what a `retry:` map leaves out. */
export const RETRY_DEFAULTS = { attempts: 3, interval: '10s', failureAction: 'fail' } as const;
/** At most this many retries of one step: more is a mistake, and a run must end. */
export const MAX_RETRY_ATTEMPTS = 100;

/** The action a failure action names: `fail`, or the first key of `{retry: {…}}` that is not false. */
export function actionName(value: unknown): string | undefined {
  const name = isRecord(value) ? Object.keys(value).find((key) => value[key] !== false) : value;
  return typeof name === 'string' ? name : undefined;
}

/** A retry's `attempts` as a whole number, if it is one (a number, or a numeric string) within bounds. */
export function retryAttempts(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_RETRY_ATTEMPTS ? n : undefined;
}

/**
 * `action: retry` (or `retry: {…}`): the failed step runs again, at most `attempts` more
 * times, waiting an interval before each; when the last try fails too, `failureAction`
 * decides (fail, ignore, success, abort, manual-intervention). Plain data: a run waiting
 * for a retry keeps it in the store.
 */
export interface RetryPolicy {
  attempts: number;
  /** The wait before each retry, in milliseconds: the n-th retry waits the n-th, or the last one. */
  intervalsMs: number[];
  failureAction: string;
  /** With failureAction `manual-intervention`: its settings. */
  intervention?: InterventionPolicy;
}

/** What a person (or the timeout) may decide about a step that waits for manual intervention. */
export const INTERVENTION_DECISIONS = ['retry', 'ignore', 'abort'] as const;
export type InterventionDecision = (typeof INTERVENTION_DECISIONS)[number];
/** The upstream spec gives none: trig waits as long as at an approval, and then fails the run. */
export const INTERVENTION_DEFAULTS = { timeout: '24h', timeoutAction: 'fail' } as const;

/**
 * `manual-intervention` (an on-failure action, or a retry's failure-action): the run waits
 * for a person to decide about the failed step, at most `timeout`; then `timeoutAction`.
 */
export interface InterventionPolicy {
  timeout: string;
  timeoutMs: number;
  timeoutAction: InterventionDecision;
  /** With timeoutAction retry: how (the timeout-action's own `retry:` settings, or the defaults). */
  timeoutRetry?: RetryPolicy;
}

/**
 * What a failure action named as a manual intervention's timeout-action does: `ignore` and
 * `success` go on, `retry` runs the step again, and the rest (`fail`, `abort`, and the
 * rollbacks trig does not do; the rule says so) end the run failed.
 */
export function timeoutDecision(action: string | undefined): InterventionDecision {
  if (action === 'ignore' || action === 'success') return 'ignore';
  return action === 'retry' ? 'retry' : 'abort';
}
