import { describe, expect, it } from 'vitest';
import { pullRequestPaths } from '../../../src/validate/rules/pull-request-paths.js';
import { check } from './check.js';

describe('pull-request-paths', () => {
  it('warns about paths and paths-ignore on pull_request and pull_request_target, saying how to supply the files', () => {
    const yaml = [
      'pipeline:',
      '  on:',
      '    pull_request:',
      '      paths: [src/**]',
      '    pull_request_target:',
      '      paths-ignore: [docs/**]',
    ].join('\n');
    expect(check(pullRequestPaths, yaml)).toEqual([
      '4:7 warning: GitHub\'s pull_request deliveries list no changed files, and without them "paths" never passes: add them to the payload as a "changedFiles" array (e.g. from gh pr diff --name-only) @ paths',
      '6:7 warning: GitHub\'s pull_request_target deliveries list no changed files, and without them "paths-ignore" never passes: add them to the payload as a "changedFiles" array (e.g. from gh pr diff --name-only) @ paths-ignore',
    ]);
  });

  it('leaves push (whose deliveries list the files) and the other pull request filters alone', () => {
    const yaml = ['pipeline:', '  on:', '    push: {paths: [src/**]}', '    pull_request: {branches: [main], types: [opened]}'].join('\n');
    expect(check(pullRequestPaths, yaml)).toEqual([]);
  });
});
