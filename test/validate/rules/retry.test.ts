import { describe, expect, it } from 'vitest';
import { retry } from '../../../src/validate/rules/retry.js';
import { check } from './check.js';

const step = (...lines: string[]) =>
  ['pipeline:', '  on: push', '  stages:', '    - name: s', '      steps:', '        - run: make', ...lines].join('\n');

describe('retry', () => {
  it('accepts the short form, the spec samples and numeric strings', () => {
    expect(check(retry, step('          on-failure:', '            errors: all', '            action: retry'))).toEqual([]);
    const full = step(
      '          on-failure:',
      '            action:',
      '              retry:',
      '                attempts: "5"',
      '                interval: [10s, 30s, 1m, 5m, 10m]',
      '                failure-action:',
      '                  manual-intervention:',
      '                    timeout: 60m',
      '                    timeout-action: fail',
    );
    expect(check(retry, full)).toEqual([]);
  });

  it('reports attempts out of bounds, bad intervals with did-you-mean, and a failure-action that retries', () => {
    const yaml = step(
      '          on-failure:',
      '            action:',
      '              retry:',
      '                attempts: 101',
      '                interval: 2 minutes',
      '                failure-action: {retry: {attempts: 1}}',
    );
    expect(check(retry, yaml)).toEqual([
      '10:27 error: attempts must be a whole number from 1 to 100 (the retries after the first failure) @ 101',
      '11:27 error: "2 minutes" is not a duration such as 500ms, 10s, 1m or 1h30m; did you mean "2m"? @ 2 minutes',
      "12:17 error: a retry's failure-action cannot retry again: raise attempts (or list more intervals) instead @ failure-action",
    ]);
  });

  it('checks a stage-level retry too', () => {
    const yaml = [
      'pipeline:',
      '  on: push',
      '  stages:',
      '    - name: s',
      '      steps: [make]',
      '      on-failure:',
      '        action: {retry: {interval: 5 hrs}}',
    ].join('\n');
    expect(check(retry, yaml)).toEqual([
      '7:36 error: "5 hrs" is not a duration such as 500ms, 10s, 1m or 1h30m; did you mean "5h"? @ 5 hrs',
    ]);
  });
});
