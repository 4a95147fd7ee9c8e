// Cron schedules: whether a five-field expression fires at a given minute, and what is
// wrong with an expression or a time zone. croner is loaded on first use only, so the
// commands that never evaluate a schedule do not pay for it; it is loaded through
// `require` (croner ships a CommonJS build) to keep this API synchronous.

import { createRequire } from 'node:module';
import type { Cron } from 'croner';

type CronConstructor = typeof Cron;

let cronClass: CronConstructor | undefined;

function loadCron(): CronConstructor {
  cronClass ??= (createRequire(import.meta.url)('croner') as { Cron: CronConstructor }).Cron;
  return cronClass;
}

const compiled = new Map<string, Cron>();

function cronFor(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let cron = compiled.get(key);
  if (!cron) {
    const CronClass = loadCron();
    // legacyMode: a restricted day-of-month and a restricted day-of-week are OR-ed, as in
    // cron and GitHub (`0 0 13 * FRI` fires on every 13th and on every Friday).
    cron = new CronClass(expr, { timezone, legacyMode: true });
    compiled.set(key, cron);
  }
  return cron;
}

const MINUTE = 60_000;

/**
 * Whether the cron expression fires at the minute of `at` (its seconds are ignored), read
 * in the IANA `timezone`, UTC when absent. Throws when the expression or the time zone is
 * invalid; `cronProblem` and `timezoneProblem` say why without throwing.
 */
export function isDue(cron: string, timezone: string | undefined, at: Date): boolean {
  const minuteStart = Math.floor(at.getTime() / MINUTE) * MINUTE;
  const problem = cronProblem(cron) ?? (timezone === undefined ? undefined : timezoneProblem(timezone));
  if (problem) throw new Error(problem);
  // croner answers "next run after", so ask from just before the minute starts.
  const next = cronFor(cron.trim(), timezone ?? 'UTC').nextRun(new Date(minuteStart - 1));
  return next !== null && next.getTime() === minuteStart;
}

/** Why `expr` is not a five-field cron expression croner accepts, or undefined. */
export function cronProblem(expr: string): string | undefined {
  const trimmed = expr.trim();
  if (trimmed.startsWith('@')) {
    return `"${expr}": nicknames such as @daily are not supported; write the five fields (minute hour day-of-month month day-of-week)`;
  }
  const fields = trimmed === '' ? [] : trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return `"${expr}" has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron expression has 5 (minute hour day-of-month month day-of-week)`;
  }
  try {
    cronFor(trimmed, 'UTC');
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : String(error);
    return `"${expr}" is not a valid cron expression: ${message}`;
  }
  return undefined;
}

/** Why `tz` is not an IANA time zone this Node knows, or undefined. */
export function timezoneProblem(tz: string): string | undefined {
  if (tz.trim() === '') return 'the time zone is empty';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `"${tz}" is not a known IANA time zone (for example Europe/Paris, America/New_York, UTC)`;
  }
}
