import { describe, expect, it } from 'vitest';
import { cron } from '../../../src/validate/rules/cron.js';
import { check } from './check.js';

const schedule = (...filters: string[]) => ['pipeline:', '  on:', '    - schedule:', ...filters.map((f) => `        ${f}`)].join('\n');

describe('cron', () => {
  it('accepts a five-field expression and a known time zone', () => {
    expect(check(cron, schedule('cron: "0 9 * * MON"', 'timezone: Europe/Paris'))).toEqual([]);
  });

  it('reports a wrong number of fields at the expression', () => {
    expect(check(cron, schedule('cron: "0 9 * *"'))).toEqual([
      '4:15 error: "0 9 * *" has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) @ "0 9 * *"',
    ]);
  });

  it('reports a field croner rejects', () => {
    expect(check(cron, schedule('cron: 61 9 * * *'))).toEqual([
      '4:15 error: "61 9 * * *" is not a valid cron expression: Invalid value for minute: 61 @ 61 9 * * *',
    ]);
  });

  it('reports nicknames, which croner would take but GitHub does not', () => {
    expect(check(cron, schedule("cron: '@daily'"))).toEqual([
      '4:15 error: "@daily": nicknames such as @daily are not supported; write the five fields (minute hour day-of-month month day-of-week) @ \'@daily\'',
    ]);
  });

  it('reports an unknown time zone at its value', () => {
    expect(check(cron, schedule('cron: "0 9 * * *"', 'timezone: Europe/Parys'))).toEqual([
      '5:19 error: "Europe/Parys" is not a known IANA time zone (for example Europe/Paris, America/New_York, UTC) @ Europe/Parys',
    ]);
  });

  it('reports a schedule without cron, written bare or with filters', () => {
    const yaml = ['pipeline:', '  on:', '    - schedule', '    - schedule:', '        timezone: UTC'].join('\n');
    expect(check(cron, yaml)).toEqual([
      '3:7 error: schedule needs a "cron" expression, e.g. schedule: {cron: "0 9 * * MON"} @ schedule',
      '4:7 error: schedule needs a "cron" expression, e.g. schedule: {cron: "0 9 * * MON"} @ schedule',
    ]);
  });

  it('accepts a catch-up duration, in an item of its own or of a list', () => {
    expect(check(cron, schedule('cron: "0 3 * * *"', 'catch-up: 6h'))).toEqual([]);
    const list = ['pipeline:', '  on:', '    - schedule:', '        - cron: "0 3 * * *"', '          catch-up: 1h30m'].join('\n');
    expect(check(cron, list)).toEqual([]);
  });

  it('reports a catch-up that is not a duration at its value, and warns of one shorter than a minute', () => {
    expect(check(cron, schedule('cron: "0 3 * * *"', 'catch-up: 6 hours'))).toEqual([
      '5:19 error: catch-up "6 hours" is not a duration; write one such as 30m, 6h or 2d @ 6 hours',
    ]);
    const list = ['pipeline:', '  on:', '    - schedule:', '        - cron: "0 3 * * *"', '          catch-up: 30s'].join('\n');
    expect(check(cron, list)).toEqual([
      '5:21 warning: catch-up "30s" is shorter than a minute, so no missed time is ever within it; write 1m or more @ 30s',
    ]);
  });
});
