import { describe, expect, it } from 'vitest';
import { activityTypes } from '../../../src/validate/rules/activity-types.js';
import { check } from './check.js';

const on = (...lines: string[]) => ['pipeline:', '  on:', ...lines].join('\n');

describe('activity-types', () => {
  it('reports a type the event does not have, with the one probably meant', () => {
    expect(check(activityTypes, on('    pull_request:', '      types: [open, synchronize]'))).toEqual([
      '4:15 error: pull_request has no activity type "open"; did you mean "opened"? @ open',
    ]);
    expect(check(activityTypes, on('    issue_comment:', '      types: creatd'))).toEqual([
      '4:14 error: issue_comment has no activity type "creatd"; did you mean "created"? @ creatd',
    ]);
  });

  it("lists the event's types when nothing is close", () => {
    expect(check(activityTypes, on('    - issue_comment: {types: [posted]}'))).toEqual([
      '3:31 error: issue_comment has no activity type "posted"; its types are created, edited, deleted @ posted',
    ]);
  });

  it('reports one string holding several types, with the list to write', () => {
    expect(check(activityTypes, on('    pull_request:', '      types: "opened, synchronize"'))).toEqual([
      '4:14 error: "opened, synchronize" is one types value, which no event has; list the types instead: types: [opened, synchronize] @ "opened, synchronize"',
    ]);
    expect(check(activityTypes, on('    release:', '      types: [published created]'))).toEqual([
      '4:15 error: "published created" is one types value, which no event has; list the types instead: types: [published, created] @ published created',
    ]);
  });

  it('reports types on an event that has none', () => {
    expect(check(activityTypes, on('    create:', '      types: [created]'))).toEqual([
      '4:7 error: create has no activity types (its deliveries carry no "action"), so "types" can never match; remove it @ types',
    ]);
  });

  it('checks the derived comment_mention against the comment types', () => {
    expect(check(activityTypes, on('    comment_mention:', '      types: [created, edit]'))).toEqual([
      '4:24 error: comment_mention has no activity type "edit"; did you mean "edited"? @ edit',
    ]);
  });

  it("accepts every documented type, repository_dispatch's own types, and unknown events", () => {
    const yaml = on(
      '    pull_request: {types: [opened, synchronize, reopened, closed, edited, labeled, ready_for_review]}',
      '    pull_request_target: {types: converted_to_draft}',
      '    issues: {types: [opened, milestoned]}',
      '    workflow_run: {types: [completed, in_progress]}',
      '    watch: {types: started}',
      '    repository_dispatch: {types: [my-own-type, deploy]}',
      '    pul_request: {types: [open]}',
    );
    expect(check(activityTypes, yaml)).toEqual([]);
  });
});
