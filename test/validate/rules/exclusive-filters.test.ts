import { describe, expect, it } from 'vitest';
import { exclusiveFilters } from '../../../src/validate/rules/exclusive-filters.js';
import { check } from './check.js';

describe('exclusive-filters', () => {
  it('reports branches with branches-ignore once, at the key written second', () => {
    const yaml = ['pipeline:', '  on:', '    push:', '      branches-ignore: [wip/*]', '      branches: [main]'].join('\n');
    expect(check(exclusiveFilters, yaml)).toEqual([
      '5:7 error: push cannot have both "branches-ignore" and "branches"; use "branches" alone and exclude with "!" patterns @ branches',
    ]);
  });

  it('reports tags and paths pairs too, per event entry of a list', () => {
    const yaml = [
      'agent:',
      '  on:',
      '    - push:',
      '        tags: [v*]',
      '        paths: [src/**]',
      '        tags-ignore: [v0*]',
      '        paths-ignore: [docs/**]',
      '    - pull_request:',
      '        branches: [main]',
    ].join('\n');
    expect(check(exclusiveFilters, yaml)).toEqual([
      '6:9 error: push cannot have both "tags" and "tags-ignore"; use "tags" alone and exclude with "!" patterns @ tags-ignore',
      '7:9 error: push cannot have both "paths" and "paths-ignore"; use "paths" alone and exclude with "!" patterns @ paths-ignore',
    ]);
  });

  it('accepts one of each pair, and events whose filters have no pair', () => {
    const yaml = [
      'pipeline:',
      '  on:',
      '    - push: {branches: [main], tags-ignore: [v0*], paths: [src/**]}',
      '    - pipeline_failed: {branches: [main], repos: [api]}',
    ].join('\n');
    expect(check(exclusiveFilters, yaml)).toEqual([]);
  });
});
