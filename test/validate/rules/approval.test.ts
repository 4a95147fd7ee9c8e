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

  it("checks each channel's own settings: the required ones at `uses`, a near miss named, URLs, recipients, secret references", () => {
    expect(
      check(approval, gated('            uses: webhook', '            with:', '              ulr: https://hooks.example.test')),
    ).toEqual([
      '10:15 error: unknown approval setting "ulr"; did you mean "url"? @ ulr',
      '8:19 error: the webhook channel needs url: the address to send the gate to (is "ulr" meant to be "url"?) @ webhook',
    ]);
    expect(check(approval, gated('            uses: slack', '            with: {url: "file:///etc/passwd", channel: 7}'))).toEqual([
      '9:25 error: url must be an http or https URL (the Slack incoming webhook\'s) @ "file:///etc/passwd"',
      '9:56 error: channel must be a string @ 7',
    ]);
    expect(check(approval, gated('            uses: email', '            with: {to: [ann@example.test, nobody]}'))).toEqual([
      '9:20 error: to must be an email address or a list of them @ to',
    ]);
    expect(check(approval, gated('            uses: email', '            with: {message: hi}'))).toEqual([
      '8:19 error: the email channel needs to: the addresses to mail (a list) @ email',
    ]);
    expect(
      check(approval, gated('            uses: jira', '            with: {url: https://jira.example.test, token: "Bearer abc"}')),
    ).toEqual([
      '8:19 error: the jira channel needs project: the key of the Jira project to create the issue in @ jira',
      '9:59 error: token names a secret (a reference such as account.jira_token, read from TRIG_SECRET_*), never the secret itself @ "Bearer abc"',
    ]);
    // A definition's own gate has them beside uses.
    const own = [
      'pipeline:',
      '  on: push',
      '  approval: {uses: webhook, url: "https://h.example.test/a", secret: account.hook}',
      '  stages: []',
    ];
    expect(check(approval, own.join('\n'))).toEqual([]);
    const missing = ['pipeline:', '  on: push', '  approval: {uses: slack}', '  stages: []'];
    expect(check(approval, missing.join('\n'))).toEqual([
      '3:20 error: the slack channel needs url: the address to send the gate to @ slack',
    ]);
    // cli, and harness read as cli, need nothing.
    expect(check(approval, gated('            uses: cli'))).toEqual([]);
  });
});
