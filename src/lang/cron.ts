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

// Each expression is compiled once, at a fixed UTC offset of zero, and matched against the
// wall-clock time of its zone (below): croner's own time-zone mode converts dates through
// Intl at every step of its search, which made each check cost about a millisecond.
function cronFor(expr: string): Cron {
  let cron = compiled.get(expr);
  if (!cron) {
    const CronClass = loadCron();
    // legacyMode: a restricted day-of-month and a restricted day-of-week are OR-ed, as in
    // cron and GitHub (`0 0 13 * FRI` fires on every 13th and on every Friday).
    cron = new CronClass(expr, { utcOffset: 0, legacyMode: true });
    compiled.set(expr, cron);
  }
  return cron;
}

const MINUTE = 60_000;
/** A minute field of plain numbers (`0`, `15,45`), followed by the four other fields. */
const PLAIN_MINUTES = /^(\d{1,2}(?:,\d{1,2})*)(?:\s+\S+){4}$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The wall-clock time of `zone` at the instant `utcMs`, as milliseconds of a UTC date with
 * the same fields (2026-11-27 17:00 in New York -> Date.UTC(2026, 10, 27, 17, 0)).
 */
function wallClock(utcMs: number, zone: string): number {
  if (zone === 'UTC') return utcMs;
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(utcMs)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
}

/**
 * Whether the cron expression fires at the minute of `at` (its seconds are ignored), read
 * in the IANA `timezone`, UTC when absent: whether the zone's wall-clock time at that
 * minute matches the five fields. So a wall-clock time that happens twice when clocks go
 * back is due twice, and one that clocks skip when they go forward is not due at all.
 * Throws when the time zone or the expression is invalid (an expression only when its
 * minute field does not already rule the minute out); `cronProblem` and `timezoneProblem`
 * say why without throwing.
 */
export function isDue(cron: string, timezone: string | undefined, at: Date): boolean {
  const minuteStart = Math.floor(at.getTime() / MINUTE) * MINUTE;
  const zoneProblem = timezone === undefined ? undefined : timezoneProblem(timezone);
  if (zoneProblem) throw new Error(zoneProblem);
  const wall = wallClock(minuteStart, timezone ?? 'UTC');
  // Most schedules fire at fixed minutes ("0 9 * * MON"), and trig is asked every minute:
  // a plain minute list that leaves out this minute settles it without loading croner.
  // (The other fields are then not checked here; definitions are validated before matching.)
  const minutes = PLAIN_MINUTES.exec(cron.trim())?.[1]?.split(',').map(Number);
  if (minutes?.every((m) => m <= 59) && !minutes.includes(new Date(wall).getUTCMinutes())) return false;
  const problem = cronProblem(cron);
  if (problem) throw new Error(problem);
  // croner answers "next run after", so ask from just before the minute starts.
  const next = cronFor(cron.trim()).nextRun(new Date(wall - 1));
  return next !== null && next.getTime() === wall;
}

/**
 * The latest minute from `from` to `to` (both included, seconds ignored) at which the
 * expression is due, in the time zone, or undefined when it is due at none. Asked minute
 * by minute with `isDue`, latest first, so that a missed time is exactly a minute a tick
 * would have fired (daylight-saving changes included); the cron entry asks it only after
 * ticks were missed, over at most the `catch-up` window. Throws as `isDue` does.
 */
export function lastDueBetween(cron: string, timezone: string | undefined, from: Date, to: Date): Date | undefined {
  const first = Math.floor(from.getTime() / MINUTE) * MINUTE;
  for (let minute = Math.floor(to.getTime() / MINUTE) * MINUTE; minute >= first; minute -= MINUTE) {
    if (isDue(cron, timezone, new Date(minute))) return new Date(minute);
  }
  return undefined;
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
    cronFor(trimmed);
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : String(error);
    return `"${expr}" is not a valid cron expression: ${message}`;
  }
  return undefined;
}

/** Why `tz` is not an IANA time zone this Node knows, or undefined. */
export function timezoneProblem(tz: string): string | undefined {
  if (tz.trim() === '') return 'the time zone is empty';
  if (formatters.has(tz)) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `"${tz}" is not a known IANA time zone (for example Europe/Paris, America/New_York, UTC)`;
  }
}
