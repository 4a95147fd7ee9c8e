import { describe, expect, it } from 'vitest';
import { unknownFilter } from '../../../src/validate/rules/unknown-filter.js';
import { check } from './check.js';

describe('unknown-filter', () => {
  it("lists the event's filters when nothing is close", () => {
    const yaml = ['pipeline:', '  on:', '    - pipeline_failed:', '        services: [api]'].join('\n');
    expect(check(unknownFilter, yaml)).toEqual([
      '4:9 error: pipeline_failed has no filter "services"; its filters are repos, branches, pipelines @ services',
    ]);
  });

  it('suggests a close filter name', () => {
    const yaml = ['agent:', '  on:', '    push:', '      branch: main', '    vulnerability_found:', '      scan_types: [sast]'].join('\n');
    expect(check(unknownFilter, yaml)).toEqual([
      '4:7 error: push has no filter "branch"; did you mean "branches"? @ branch',
      '6:7 error: vulnerability_found has no filter "scan_types"; did you mean "scan-types"? @ scan_types',
    ]);
  });

  it('says so for events that take no filters', () => {
    const yaml = ['pipeline:', '  on:', '    - repo_created: {repos: [x]}', '    - flag_stale:', '        flags: [old]'].join('\n');
    expect(check(unknownFilter, yaml)).toEqual([
      '3:22 error: repo_created has no filter "repos": it takes no filters @ repos',
      '5:9 error: flag_stale has no filter "flags": it takes no filters @ flags',
    ]);
  });

  it('accepts every filter the catalog gives the event, and leaves unknown events to unknown-event', () => {
    const yaml = [
      'pipeline:',
      '  on:',
      '    - cost_spike: {resources: [prod], threshold-percent: 20}',
      '    - schedule: {cron: "0 9 * * *", timezone: UTC, name: nightly}',
      '    - pull_request: {branches: [main], paths: [src/**], types: [opened]}',
      '    - pipeline_faild: {services: [api]}',
    ].join('\n');
    expect(check(unknownFilter, yaml)).toEqual([]);
  });
});
