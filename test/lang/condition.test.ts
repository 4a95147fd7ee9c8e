import { describe, expect, it } from 'vitest';
import { conditionProblem } from '../../src/lang/condition.js';
import { evaluateCondition } from '../../src/resolve/condition.js';
import type { ResolveScope } from '../../src/resolve/expressions.js';

const pushScope: ResolveScope = {
  trigger: {
    event: 'pull_request',
    repo: 'my-service',
    branch: 'main',
    pullReq: 42,
    severity: 'critical',
    payload: { pull_request: { draft: false, number: 42, title: 'Fix it' }, commits: [{ id: 'c1' }] },
  },
  inputs: { depth: '3', dryRun: 'false', enabled: true, name: 'x', count: 0 },
};

const manualScope: ResolveScope = {
  trigger: { event: 'workflow_dispatch' },
  inputs: { repo: 'fallback-repo' },
};

describe('evaluateCondition: values', () => {
  it.each([
    ['<+trigger.event> == "pull_request"', true],
    ["<+trigger.event> == 'push'", false],
    ['<+trigger.event> != "push"', true],
    ['<+trigger.pullReq> == 42', true],
    ['<+trigger.pullReq> == "42"', true],
    ['<+trigger.pullReq> == 42.0', true],
    ['<+trigger.pullReq> == "042x"', false],
    ['<+trigger.pullReq> > 40', true],
    ['<+trigger.pullReq> >= 42', true],
    ['<+trigger.pullReq> < 42', false],
    ['<+trigger.pullReq> <= -1', false],
    ['<+inputs.depth> < 10', true], // numeric, not text: "3" < "10" would be false
    ['"abc" < "abd"', true],
    ['<+trigger.payload.pull_request.draft> == false', true],
    ['<+trigger.payload.pull_request.draft> == "false"', true],
    ['<+trigger.payload.commits.0.id> == "c1"', true],
    ['"<+trigger.branch>" == "main"', true],
    ['"refs/heads/<+trigger.branch>" == \'refs/heads/main\'', true],
    ['"it\\"s" == \'it"s\'', true],
    ['true', true],
    ['false', false],
    ['null == null', true],
  ])('%s → %s', (text, value) => {
    expect(evaluateCondition(text, pushScope)).toEqual({ value });
  });
});

describe('evaluateCondition: truthiness of a bare operand', () => {
  it.each([
    ['<+trigger.repo>', true],
    ['<+inputs.dryRun>', false],
    ['<+inputs.enabled>', true],
    ['<+inputs.count>', false],
    ['"0"', false],
    ['"FALSE"', false],
    ['""', false],
    ['"no"', true],
    ['<+trigger.payload.pull_request>', true],
    ['!<+inputs.dryRun>', true],
    ['!!<+trigger.repo>', true],
  ])('%s → %s', (text, value) => {
    expect(evaluateCondition(text, pushScope)).toEqual({ value });
  });
});

describe('evaluateCondition: manual runs', () => {
  it.each([
    // The event carries no pullReq and there is no input: absent equals "" and null.
    ['<+trigger.pullReq>', false],
    ['<+trigger.pullReq> == ""', true],
    ['<+trigger.pullReq> == null', true],
    ['<+trigger.pullReq> != ""', false],
    // Short-circuit: the ordering on an absent value is never evaluated.
    ['<+trigger.pullReq> != "" && <+trigger.pullReq> > 10', false],
    ['<+trigger.event> == "workflow_dispatch" || <+trigger.pullReq> > 10', true],
    // <+trigger.repo> falls back to the input of the same name.
    ['<+trigger.repo> == "fallback-repo"', true],
  ])('%s → %s', (text, value) => {
    expect(evaluateCondition(text, manualScope)).toEqual({ value });
  });
});

describe('evaluateCondition: precedence', () => {
  it.each([
    // && binds tighter than ||: true || (false && false)
    ['true || false && false', true],
    ['(true || false) && false', false],
    // ! binds tighter than ==: (!true) == false
    ['!true == false', true],
    ['!(true == false)', true],
    // comparisons bind tighter than &&
    ['<+trigger.pullReq> > 40 && <+trigger.severity> == "critical"', true],
    ['<+trigger.pullReq> > 50 || <+trigger.severity> == "low" || <+trigger.branch> == "main"', true],
    ['(((<+trigger.branch> == "main")))', true],
    // == is left-associative: ("a" == "a") == true
    ['"a" == "a" == true', true],
  ])('%s → %s', (text, value) => {
    expect(evaluateCondition(text, pushScope)).toEqual({ value });
  });
});

describe('evaluateCondition: errors', () => {
  it.each([
    ['', 'the condition is empty'],
    ['   ', 'the condition is empty'],
    [
      '${{ github.event_name == "push" }}',
      'GitHub Actions "${{ … }}" is not evaluated (column 1): trig evaluates <+…> conditions, such as <+trigger.event> == "push"',
    ],
    [
      '<+pipeline.status> == "SUCCEEDED"',
      'cannot evaluate <+pipeline.status>: "pipeline" expressions are resolved by Harness while the pipeline runs, not by trig',
    ],
    [
      '"<+stage.name>" == "build"',
      'cannot evaluate <+stage.name>: "stage" expressions are resolved by Harness while the pipeline runs, not by trig',
    ],
    [
      '<+triger.event> == "push"',
      'cannot evaluate <+triger.event>: "triger" is not a known expression namespace (did you mean "trigger"?)',
    ],
    ['<+trigger..event> == "push"', 'empty path segment in "<+trigger..event>": remove the extra "."'],
    ['<+trigger.event == "push"', 'unterminated expression "<+trigger.event": add the closing ">"'],
    [
      'contains(<+trigger.branch>, "main")',
      'function calls such as "contains(…)" are not supported (column 1): compare values with ==, !=, <, <=, >, >=',
    ],
    ['<+trigger.event> = "push"', '"=" at column 18 assigns; use "==" to compare'],
    ['<+trigger.event> === "push"', '"===" is not supported (column 18): use "=="'],
    ['true and false', 'unexpected "and" at column 6: use "&&" instead of "and"'],
    ['true & false', '"&" at column 6: use "&&"'],
    [
      'trigger.event == "push"',
      'unexpected "trigger.event" at column 1: quote strings ("trigger.event") and write references as <+…>, e.g. <+trigger.event>',
    ],
    ['main == "main"', 'unexpected "main" at column 1: quote strings ("main") and write references as <+…>, e.g. <+inputs.main>'],
    ['"main', 'unterminated string starting at column 1: add the closing "'],
    ['(true', 'missing ")" for "(" at column 1, found the end of the condition'],
    ['true)', 'unexpected ")" at column 5'],
    ['true &&', '"&&" at column 6 needs a value after it'],
    ['== 1', 'expected a value, found "==" at column 1'],
    ['"a" "b"', 'missing operator before "b" at column 5'],
    ['1 ~ 2', 'unexpected character "~" at column 3'],
    ['<+trigger.event> > 3', 'cannot use ">" here: <+trigger.event> is string and 3 is number; both sides must be numbers or both strings'],
    ['<+trigger.nope> < 3', 'cannot use "<" here: <+trigger.nope> is empty and 3 is number; both sides must be numbers or both strings'],
    ['1 < 2 < 3', 'cannot use "<" here: a sub-condition is boolean and 3 is number; both sides must be numbers or both strings'],
  ])('%j → error', (text, error) => {
    expect(evaluateCondition(text, pushScope)).toEqual({ error });
  });

  it('rejects an unresolvable namespace even where short-circuiting would skip it', () => {
    // Reporting consistently beats a condition that works only for some events.
    expect(evaluateCondition('true || <+pipeline.status> == "x"', pushScope)).toEqual({
      error: 'cannot evaluate <+pipeline.status>: "pipeline" expressions are resolved by Harness while the pipeline runs, not by trig',
    });
  });
});

describe('conditions built to exhaust the stack', () => {
  const scope = pushScope;

  it('are refused with a reason, when evaluated and when only parsed (validate)', () => {
    const deep = `${'('.repeat(200)}1${')'.repeat(200)}`;
    const nots = `${'!'.repeat(500)}1`;
    const long = Array(100_000).fill('1').join(' && ');
    expect(evaluateCondition(deep, scope)).toEqual({ error: 'the condition nests "(" and "!" more than 100 deep' });
    expect(evaluateCondition(nots, scope)).toEqual({ error: 'the condition nests "(" and "!" more than 100 deep' });
    expect(evaluateCondition(long, scope)).toEqual({ error: 'the condition is too long: at most 1000 values and operators' });
    expect(conditionProblem(deep)).toEqual({
      message: 'the condition nests "(" and "!" more than 100 deep',
      start: 100,
      end: 101,
      foreign: false,
    });
    expect(conditionProblem(long)?.message).toBe('the condition is too long: at most 1000 values and operators');
    expect(evaluateCondition(`${'('.repeat(50_000)}1${')'.repeat(50_000)}`, scope)).toEqual({
      error: 'the condition is too long: at most 1000 values and operators',
    });
  });

  it('still evaluate when nested or chained within the bounds', () => {
    expect(evaluateCondition(`${'('.repeat(100)}1${')'.repeat(100)}`, scope)).toEqual({ value: true });
    expect(evaluateCondition(Array(400).fill('1').join(' && '), scope)).toEqual({ value: true });
  });
});
