import { describe, expect, it } from 'vitest';
import { approval } from '../../../src/validate/rules/approval.js';
import { check } from './check.js';

const gated = (...lines: string[]) =>
  ['pipeline:', '  on: push', '  stages:', '    - name: s', '      steps:', '        - name: gate', '          approval:', ...lines].join(
    '\n',
  );

describe('approval', () => {
  it('accepts the spec samples, approval: true and a definition-level gate', () => {
    expect(check(approval, gated('            uses: jira', '            with: {connector: account.jira, project: PROJ}'))).toEqual([]);
    const stage = [
      'pipeline:',
      '  on: push',
      '  approval: {uses: cli, timeout: 1h, timeout-action: approve, min-approvers: 2, approvers: [ann, bob]}',
      '  stages:',
      '    - approval:',
      '        uses: harness',
      '        with: {timeout: 30m, message: "ok?", groups: [admins], min-approvers: 1}',
    ].join('\n');
    expect(check(approval, stage)).toEqual([]);
    expect(check(approval, 'pipeline:\n  on: push\n  approval: true\n  stages: []\n')).toEqual([]);
  });

  it('reports a channel, a timeout, a timeout-action and a misspelt setting, with did-you-mean', () => {
    const yaml = gated(
      '            uses: slak',
      '            with:',
      '              timeout: 2 hours',
      '              timeout-action: aprove',
      '              min-approver: 2',
    );
    expect(check(approval, yaml)).toEqual([
      '8:19 error: "slak" is not an approval channel (cli, webhook, slack, email, jira, harness); did you mean "slack"? @ slak',
      '12:15 error: unknown approval setting "min-approver"; did you mean "min-approvers"? @ min-approver',
      '10:24 error: "2 hours" is not a duration such as 30m, 24h or 2d; did you mean "2h"? @ 2 hours',
      '11:31 error: timeout-action must be reject or approve; did you mean "approve"? @ aprove',
    ]);
  });

  it('reports min-approvers that is not a whole number, or that the approvers can never meet', () => {
    const bad = ['pipeline:', '  on: push', '  approval: {min-approvers: 0}', '  stages: []'].join('\n');
    expect(check(approval, bad)).toEqual(['3:29 error: min-approvers must be a whole number from 1 (distinct people who approve) @ 0']);
    const unmeetable = [
      'pipeline:',
      '  on: push',
      '  approval:',
      '    min-approvers: 3',
      '    approvers: [ann, bob, ann]',
      '  stages: []',
    ].join('\n');
    expect(check(approval, unmeetable)).toEqual(['4:20 error: min-approvers 3 can never be met: only 2 distinct approvers are listed @ 3']);
  });
});
