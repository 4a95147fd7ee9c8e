import { describe, expect, it } from 'vitest';
import { manualIntervention } from '../../../src/validate/rules/manual-intervention.js';
import { check } from './check.js';

const step = (...lines: string[]) =>
  ['pipeline:', '  on: push', '  stages:', '    - name: s', '      steps:', '        - run: make', ...lines].join('\n');

describe('manual-intervention', () => {
  it('accepts the spec samples: the short form, a timeout with an action, a timeout-action that retries', () => {
    expect(check(manualIntervention, step('          on-failure:', '            action: manual-intervention'))).toEqual([]);
    const retrying = step(
      '          on-failure:',
      '            errors: [all]',
      '            action:',
      '              manual-intervention:',
      '                timeout: 30m',
      '                timeout-action:',
      '                  retry:',
      '                    attempts: 10',
      '                    interval: 30s',
      '                    failure-action: success',
    );
    expect(check(manualIntervention, retrying)).toEqual([]);
  });

  it('reports a timeout that is not a duration, with did-you-mean, and a timeout-action that asks again', () => {
    const yaml = step(
      '          on-failure:',
      '            action:',
      '              manual-intervention:',
      '                timeout: 30 min',
      '                timeout-action: manual-intervention',
    );
    expect(check(manualIntervention, yaml)).toEqual([
      '10:26 error: "30 min" is not a duration such as 30m, 24h or 2d; did you mean "30m"? @ 30 min',
      "11:33 error: a manual intervention's timeout-action cannot wait for a person again: say what happens then (fail, ignore, retry) @ manual-intervention",
    ]);
  });

  it("finds it as a retry's failure-action, and warns of a rollback trig does not do", () => {
    const yaml = step(
      '          on-failure:',
      '            action:',
      '              retry:',
      '                failure-action:',
      '                  manual-intervention: {timeout: 1h, timeout-action: stage-rollback}',
    );
    expect(check(manualIntervention, yaml)).toEqual([
      '11:70 warning: trig does not carry out stage-rollback: when nobody decides in time, the run ends failed (as with abort) @ stage-rollback',
    ]);
  });
});
