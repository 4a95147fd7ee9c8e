// The settings of on-failure `retry` that both the plan (which fills them in) and the
// retry rule (which checks them) read.

/** What the short form `action: retry` means, and what a `retry:` map leaves out. */
export const RETRY_DEFAULTS = { attempts: 3, interval: '10s', failureAction: 'fail' } as const;
/** At most this many retries of one step: more is a mistake, and a run must end. */
export const MAX_RETRY_ATTEMPTS = 100;

/** A retry's `attempts` as a whole number, if it is one (a number, or a numeric string) within bounds. */
export function retryAttempts(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_RETRY_ATTEMPTS ? n : undefined;
}
