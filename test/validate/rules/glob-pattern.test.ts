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
      '4:24 error: paths-ignore pattern "": the pattern is empty and matches nothing @ \'\'',
      '4:28 error: paths-ignore pattern "[z-a]/**": range `z-a` in `[z-a]` is reversed and matches nothing @ \'[z-a]/**\'',
      '5:16 error: tags pattern "[]": `[]` lists no character, so the pattern cannot match @ "[]"',
    ]);
  });

  it("reports forms GitHub's documentation does not define as errors: odd class members, quantifiers with nothing to repeat, an unclosed [", () => {
    const yaml = [
      'pipeline:',
      '  on:',
      '    push:',
      '      branches: ["feature[_-]*", "v*+", "release/[0-9"]',
      '      tags: ["v1??"]',
    ].join('\n');
    expect(check(globPattern, yaml)).toEqual([
      '4:18 error: branches pattern "feature[_-]*": `_` in `[_-]` is not a letter or digit; a class lists only letters, digits and their ranges (a-z, A-Z, 0-9) @ "feature[_-]*"',
      '4:34 error: branches pattern "v*+": `+` at position 3 follows no single character to repeat (`*+`); escape it as `\\+` for a literal `+` @ "v*+"',
      '4:41 error: branches pattern "release/[0-9": `[` at position 9 is never closed; escape it as `\\[` for a literal `[` @ "release/[0-9"',
      '5:14 error: tags pattern "v1??": `?` at position 4 follows no single character to repeat (`??`); escape it as `\\?` for a literal `?` @ "v1??"',
    ]);
  });

  it("checks the platform events' pattern filters, written as one string too", () => {
    const yaml = ['pipeline:', '  on:', '    - deploy_failed:', '        services: payment|billing', '        environments: [prod]'].join(
      '\n',
    );
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
