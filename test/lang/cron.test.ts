import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cronProblem, isDue, lastDueBetween, timezoneProblem } from '../../src/lang/cron.js';

const cronerLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\/]croner[\\/]/.test(k));

describe('lazy loading', () => {
  it('croner is loaded by the first evaluation that needs it, not by the import', () => {
    expect(cronerLoaded()).toBe(false);
    // A fixed minute other than this one settles it without croner.
    expect(isDue('0 9 * * MON', 'Asia/Kolkata', new Date('2026-01-01T00:01:00Z'))).toBe(false);
    expect(cronerLoaded()).toBe(false);
    isDue('* * * * *', undefined, new Date('2026-01-01T00:00:00Z'));
    expect(cronerLoaded()).toBe(true);
  });
});

describe('isDue', () => {
  it.each([
    // 2026-11-23 is a Monday.
    ['0 9 * * MON', undefined, '2026-11-23T09:00:00Z', true],
    ['0 9 * * MON', undefined, '2026-11-23T09:00:42.500Z', true],
    ['0 9 * * MON', undefined, '2026-11-23T09:01:00Z', false],
    ['0 9 * * MON', undefined, '2026-11-23T08:59:59.999Z', false],
    ['0 9 * * MON', undefined, '2026-11-24T09:00:00Z', false],
    ['0 9 * * MON', 'UTC', '2026-11-23T09:00:00Z', true],
    // New York is UTC-5 in November, UTC-4 in July.
    ['0 9 * * MON', 'America/New_York', '2026-11-23T14:00:00Z', true],
    ['0 9 * * MON', 'America/New_York', '2026-11-23T09:00:00Z', false],
    ['0 9 * * MON', 'America/New_York', '2026-07-20T13:00:00Z', true],
    ['0 9 * * MON', 'America/New_York', '2026-07-20T14:00:00Z', false],
    // 09:00 on Monday in Tokyo is Sunday 00:00 UTC.
    ['0 9 * * 1', 'Asia/Tokyo', '2026-11-23T00:00:00Z', true],
    ['*/15 * * * *', undefined, '2026-03-01T10:45:00Z', true],
    ['*/15 * * * *', undefined, '2026-03-01T10:46:00Z', false],
    ['30 8 1 1 *', undefined, '2027-01-01T08:30:00Z', true],
    // Day-of-month and day-of-week both restricted: either one suffices, as in cron.
    ['0 0 13 * FRI', undefined, '2026-01-13T00:00:00Z', true], // a Tuesday the 13th
    ['0 0 13 * FRI', undefined, '2026-01-02T00:00:00Z', true], // a Friday the 2nd
    ['0 0 13 * FRI', undefined, '2026-01-03T00:00:00Z', false],
    // Sunday written as 0 and as 7.
    ['0 12 * * 0', undefined, '2026-11-22T12:00:00Z', true],
    ['0 12 * * 7', undefined, '2026-11-22T12:00:00Z', true],
  ])('%s in %s at %s → %s', (cron, tz, at, expected) => {
    expect(isDue(cron, tz, new Date(at))).toBe(expected);
  });

  it('reads the wall clock across daylight-saving changes: a repeated time is due twice, a skipped one never', () => {
    // New York went to UTC-4 at 2026-03-08 02:00 local (07:00Z), so 02:30 did not happen that day.
    const springDay = Array.from({ length: 24 * 60 }, (_, m) => new Date(Date.UTC(2026, 2, 8, 5, 0) + m * 60_000));
    expect(springDay.filter((at) => isDue('30 2 * * *', 'America/New_York', at))).toEqual([]);
    // It went back to UTC-5 at 2026-11-01 02:00 local (06:00Z), so 01:30 happened twice.
    const fallDay = Array.from({ length: 24 * 60 }, (_, m) => new Date(Date.UTC(2026, 10, 1, 4, 0) + m * 60_000));
    expect(fallDay.filter((at) => isDue('30 1 * * *', 'America/New_York', at)).map((d) => d.toISOString())).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
  });

  it("agrees with croner's own time-zone mode, minute by minute, away from clock changes", () => {
    const { Cron } = createRequire(import.meta.url)('croner') as typeof import('croner');
    const expressions = ['0 9 * * MON', '15,45 * * * *', '30 */2 * * *', '*/7 3-5 * * *', '0 0 13 * FRI', '59 23 L * *'];
    const zones = [undefined, 'Asia/Kolkata', 'America/New_York', 'Australia/Adelaide'];
    // Twelve hours of a Monday in January, when no zone changes its clock.
    const start = Date.UTC(2026, 0, 12, 2, 0);
    const end = start + 12 * 60 * 60_000;
    let due = 0;
    for (const expr of expressions) {
      for (const zone of zones) {
        const reference = new Cron(expr, { timezone: zone ?? 'UTC', legacyMode: true, stopAt: new Date(end - 1) })
          .nextRuns(1000, new Date(start - 1))
          .map((d) => d.getTime());
        const found: number[] = [];
        for (let at = start; at < end; at += 60_000) if (isDue(expr, zone, new Date(at))) found.push(at);
        expect(found, `${expr} in ${zone ?? 'UTC'}`).toEqual(reference);
        due += found.length;
      }
    }
    expect(due).toBeGreaterThan(100);
  });

  it('throws on an invalid expression or time zone', () => {
    expect(() => isDue('61 * * * *', undefined, new Date())).toThrow('"61 * * * *" is not a valid cron expression');
    expect(() => isDue('0 9 * * MON', 'Mars/Olympus', new Date())).toThrow('"Mars/Olympus" is not a known IANA time zone');
  });
});

describe('lastDueBetween', () => {
  const at = (iso: string) => new Date(iso);
  it.each([
    // The latest due minute of the window, both ends included, seconds ignored.
    ['*/15 * * * *', undefined, '2026-11-23T02:01:00Z', '2026-11-23T04:59:00Z', '2026-11-23T04:45:00.000Z'],
    ['*/15 * * * *', undefined, '2026-11-23T04:45:00Z', '2026-11-23T04:45:59Z', '2026-11-23T04:45:00.000Z'],
    ['0 3 * * *', undefined, '2026-11-23T02:01:00Z', '2026-11-23T04:59:00Z', '2026-11-23T03:00:00.000Z'],
    ['0 3 * * *', undefined, '2026-11-23T03:00:00Z', '2026-11-23T03:00:00Z', '2026-11-23T03:00:00.000Z'],
    // 03:00 in New York is 08:00 UTC in November.
    ['0 3 * * *', 'America/New_York', '2026-11-23T02:01:00Z', '2026-11-23T09:59:00Z', '2026-11-23T08:00:00.000Z'],
    // A weekly schedule a week back, over a window of more than 10,000 minutes (2026-11-23 is a Monday).
    ['0 9 * * MON', undefined, '2026-11-16T00:00:00Z', '2026-11-23T08:59:00Z', '2026-11-16T09:00:00.000Z'],
  ])('%s (%s) from %s to %s: %s', (cron, zone, from, to, expected) => {
    expect(lastDueBetween(cron, zone, at(from), at(to))?.toISOString()).toBe(expected);
  });

  it('is undefined when the expression is due at no minute of the window, or the window is empty', () => {
    expect(lastDueBetween('0 3 * * *', undefined, at('2026-11-23T03:01:00Z'), at('2026-11-23T04:59:00Z'))).toBeUndefined();
    expect(lastDueBetween('0 3 * * *', undefined, at('2026-11-23T05:00:00Z'), at('2026-11-23T02:00:00Z'))).toBeUndefined();
  });
});

describe('cronProblem', () => {
  it.each(['0 9 * * MON', '*/5 * * * *', '0 0 1,15 * *', '0 9-17 * * 1-5', '  0 9 * * MON  '])('accepts %j', (expr) => {
    expect(cronProblem(expr)).toBeUndefined();
  });

  it.each([
    ['0 0 9 * * MON', '"0 0 9 * * MON" has 6 fields; a cron expression has 5'],
    ['0 9 * *', '"0 9 * *" has 4 fields'],
    ['', '"" has 0 fields'],
    ['@daily', '"@daily": nicknames such as @daily are not supported'],
    ['61 * * * *', '"61 * * * *" is not a valid cron expression: Invalid value for minute: 61'],
    ['0 25 * * *', '"0 25 * * *" is not a valid cron expression'],
    ['0 9 * * FUNDAY', '"0 9 * * FUNDAY" is not a valid cron expression'],
  ])('flags %j', (expr, start) => {
    expect(cronProblem(expr)?.startsWith(start)).toBe(true);
  });
});

describe('timezoneProblem', () => {
  it.each(['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'])('accepts %s', (tz) => {
    expect(timezoneProblem(tz)).toBeUndefined();
  });
  it.each(['Mars/Olympus', 'Europe/Pariss', ''])('flags %j', (tz) => {
    expect(timezoneProblem(tz)).toBeTypeOf('string');
  });
});
