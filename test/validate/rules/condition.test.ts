import { describe, expect, it } from 'vitest';
import { condition } from '../../../src/validate/rules/condition.js';
import { check } from './check.js';

const pipeline = (...lines: string[]) => ['pipeline:', '  on: push', ...lines].join('\n');

describe('condition', () => {
  it("warns about ${{ … }} (the spec's syntax: valid, but trig cannot evaluate it), saying trig evaluates <+…> conditions", () => {
    const yaml = pipeline('  stages:', '    - name: build', "      if: ${{ github.ref == 'refs/heads/main' }}", '      steps: [echo hi]');
    expect(check(condition, yaml)).toEqual([
      '5:11 warning: if: GitHub Actions "${{ … }}" is not evaluated (column 1): trig evaluates <+…> conditions, such as <+trigger.event> == "push"; the step fails when a run reaches it @ ${{ github.ref == \'refs/heads/main\' }}',
    ]);
  });

  it('reports a condition that does not parse, at the part at fault, on the definition, stages and nested steps', () => {
    const yaml = pipeline(
      '  if: <+trigger.branch> = "main"',
      '  stages:',
      '    - name: test',
      '      steps:',
      '        - group:',
      '            steps:',
      '              - run: echo one',
      '                if: <+trigger.branch> == main',
      '              - run: echo two',
      '                if: (<+inputs.a> == "x"',
    );
    expect(check(condition, yaml)).toEqual([
      '3:25 error: if: "=" at column 19 assigns; use "==" to compare @ =',
      '10:42 error: if: unexpected "main" at column 22: quote strings ("main") and write references as <+…>, e.g. <+inputs.main> @ main',
      '12:21 error: if: missing ")" for "(" at column 1, found the end of the condition @ (',
    ]);
  });

  it('accepts conditions trig evaluates, leaves malformed <+…> to the expression rule, and skips data maps', () => {
    const yaml = pipeline(
      '  if: <+trigger.branch> == "main" && !(<+inputs.dry> == "true")',
      '  stages:',
      '    - name: a',
      '      if: <+trigger.pullReq> != "" || <+trigger.event> == \'push\'',
      '      steps:',
      '        - run: echo',
      '          if: <+trigger.branch',
      '          env: {if: "not a condition ="}',
      '          with: {if: "=="}',
    );
    expect(check(condition, yaml)).toEqual([]);
  });
});
