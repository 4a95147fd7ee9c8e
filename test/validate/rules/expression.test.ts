import { describe, expect, it } from 'vitest';
import { expression } from '../../../src/validate/rules/expression.js';
import { check } from './check.js';

const ciFailure = (...lines: string[]) => ['pipeline:', '  on: [pipeline_failed, build_failed]', ...lines].join('\n');

describe('expression', () => {
  it('warns (not an error: payloads may carry more) about a trigger field none of the events lists, at the expression inside the string', () => {
    const yaml = ciFailure('  clone:', '    ref:', '      name: pr-<+trigger.pullReq>');
    expect(check(expression, yaml)).toEqual([
      '5:16 warning: <+trigger.pullReq>: none of this definition\'s events (pipeline_failed, build_failed) lists "pullReq" (it resolves only if the payload carries it, or from an input "pullReq") @ <+trigger.pullReq>',
    ]);
  });

  it('words a single event as such and suggests a carried field', () => {
    const yaml = ['agent:', '  on: comment_mention', '  env:', '    WHO: <+trigger.mentionedAgnet>'].join('\n');
    expect(check(expression, yaml)).toEqual([
      '4:10 warning: <+trigger.mentionedAgnet>: this definition\'s event (comment_mention) does not list "mentionedAgnet"; did you mean "mentionedAgent"? (it resolves only if the payload carries it, or from an input "mentionedAgnet") @ <+trigger.mentionedAgnet>',
    ]);
  });

  it('accepts a field any one event carries, the common fields, payload, and fields an input backs', () => {
    const yaml = [
      'pipeline:',
      '  on: [flag_stale, schedule, workflow_dispatch]',
      '  env:',
      '    A: <+trigger.repo> <+trigger.featureFlag> <+trigger.scheduleName>',
      '    B: <+trigger.event> <+trigger.payload.anything.at.all>',
      '    C: <+trigger.branch>',
      '  inputs:',
      '    branch: {type: string, default: main}',
    ].join('\n');
    expect(check(expression, yaml)).toEqual([]);
  });

  it('does not guess trigger fields when an event is unknown or there is no on:', () => {
    expect(check(expression, ['pipeline:', '  on: [push, pipeline_faild]', '  env: {A: <+trigger.nope>}'].join('\n'))).toEqual([]);
    expect(check(expression, ['pipeline:', '  env: {A: <+trigger.nope>}'].join('\n'))).toEqual([]);
  });

  it('reports unknown namespaces with a suggestion', () => {
    const yaml = ciFailure('  env:', '    A: "<+triger.branch>"');
    expect(check(expression, yaml)).toEqual([
      '4:9 error: <+triger.branch>: unknown expression namespace "triger"; did you mean "trigger"? @ <+triger.branch>',
    ]);
  });

  it("only warns about a namespace that is no near miss of trig's own, as Harness has more", () => {
    const yaml = ciFailure('  env:', '    A: <+terraform.output.name>', '    B: <+pipelin.name>');
    expect(check(expression, yaml)).toEqual([
      '4:8 warning: <+terraform.output.name>: unknown expression namespace "terraform" @ <+terraform.output.name>',
      '5:8 warning: <+pipelin.name>: unknown expression namespace "pipelin"; did you mean "pipeline"? @ <+pipelin.name>',
    ]);
  });

  it("reports the scanner's errors for malformed expressions", () => {
    const yaml = ciFailure('  env:', '    A: <+trigger.branch', '    B: x <+ >');
    expect(check(expression, yaml)).toEqual([
      '4:8 error: unterminated expression "<+trigger.branch": add the closing ">" @ <+trigger.branch',
      '5:10 error: empty expression "<+ >": write a reference such as <+trigger.branch> or <+inputs.name> @ <+ >',
    ]);
  });

  it('reports inputs the definition does not declare', () => {
    const yaml = ciFailure('  env:', '    KEY: <+inputs.anthropicKye>', '  inputs:', '    anthropicKey: {type: secret}');
    expect(check(expression, yaml)).toEqual([
      '4:10 error: <+inputs.anthropicKye>: the definition declares no input "anthropicKye"; did you mean "anthropicKey"? @ <+inputs.anthropicKye>',
    ]);
    expect(check(expression, ciFailure('  env:', '    KEY: <+inputs.key>'))).toEqual([
      '4:10 error: <+inputs.key>: the definition declares no inputs @ <+inputs.key>',
    ]);
  });

  it('points at each expression of a string, in block scalars too', () => {
    const yaml = ciFailure(
      '  steps:',
      '    - run:',
      '        script: |',
      '          echo <+trigger.branch>',
      '          echo <+trigger.tag> and <+inputs.tag>',
    );
    expect(check(expression, yaml)).toEqual([
      '7:16 warning: <+trigger.tag>: none of this definition\'s events (pipeline_failed, build_failed) lists "tag" (it resolves only if the payload carries it, or from an input "tag") @ <+trigger.tag>',
      '7:35 error: <+inputs.tag>: the definition declares no inputs @ <+inputs.tag>',
    ]);
  });

  it('marks the whole value when the expression is not written verbatim in the source', () => {
    // The escape `\x3E` stands for the closing ">", so the source never holds the expression's text.
    const yaml = ciFailure('  env:', '    A: "<+triger.branch\\x3E"');
    expect(check(expression, yaml)).toEqual([
      '4:8 error: <+triger.branch>: unknown expression namespace "triger"; did you mean "trigger"? @ "<+triger.branch\\x3E"',
    ]);
  });

  it('accepts the runtime namespaces Harness resolves', () => {
    const yaml = ciFailure('  env:', '    A: <+pipeline.name> <+account.identifier> <+secrets.getValue("token")> <+eventPayload.ref>');
    expect(check(expression, yaml)).toEqual([]);
  });
});
