import { describe, expect, it } from 'vitest';
import { globPattern } from '../../../src/validate/rules/glob-pattern.js';
import { check } from './check.js';

describe('glob-pattern', () => {
  it('warns at the list item that looks like a regular expression', () => {
    const yaml = ['pipeline:', '  on:', '    push:', '      branches:', '        - main', '        - "^release/.*$"'].join('\n');
    expect(check(globPattern, yaml)).toEqual([
      '6:11 warning: branches pattern "^release/.*$": looks like a regular expression: `^` is a literal character in filter patterns (a pattern always matches the whole name); drop it @ "^release/.*$"',
    ]);
  });

  it('reports patterns that can match nothing as errors', () => {
    const yaml = ['agent:', '  on:', '    - pull_request:', "        paths-ignore: ['', '[z-a]/**']", '        tags: ["[]"]'].join('\n');
    expect(check(globPattern, yaml)).toEqual([
      "4:24 error: paths-ignore pattern \"\": the pattern is empty and matches nothing @ ''",
      "4:28 error: paths-ignore pattern \"[z-a]/**\": range `z-a` in `[z-a]` is reversed and matches nothing @ '[z-a]/**'",
      '5:16 error: tags pattern "[]": `[]` lists no character, so the pattern cannot match @ "[]"',
    ]);
  });

  it('checks the platform events\' pattern filters, written as one string too', () => {
    const yaml = ['pipeline:', '  on:', '    - deploy_failed:', '        services: payment|billing', '        environments: [prod]'].join('\n');
    expect(check(globPattern, yaml)).toEqual([
      '4:19 warning: services pattern "payment|billing": looks like a regular expression: `(`, `|` and `)` are literal characters in filter patterns; list alternatives as separate patterns @ payment|billing',
    ]);
  });

  it('leaves non-pattern filters and good patterns alone', () => {
    const yaml = [
      'pipeline:',
      '  on:',
      '    - push: {branches: [main, "release/**", "!release/old"], paths: ["src/**/*.ts"]}',
      '    - pull_request: {types: ["^opened"]}',
      '    - cost_spike: {threshold-percent: 20, resources: [prod-*]}',
      '    - vulnerability_found: {severity: [critical]}',
    ].join('\n');
    expect(check(globPattern, yaml)).toEqual([]);
  });
});
