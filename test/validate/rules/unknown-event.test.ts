import { describe, expect, it } from 'vitest';
import { unknownEvent } from '../../../src/validate/rules/unknown-event.js';
import { check } from './check.js';

describe('unknown-event', () => {
  it('reports unknown names in every form of on:, with a suggestion where one is close', () => {
    const yaml = [
      'pipeline:',
      '  on:',
      '    - pipeline_faild',
      '    - deploy-failed:',
      '        services: [api]',
      '    - something_else',
    ].join('\n');
    expect(check(unknownEvent, yaml)).toEqual([
      '3:7 error: unknown event "pipeline_faild"; did you mean "pipeline_failed"? @ pipeline_faild',
      '4:7 error: unknown event "deploy-failed"; did you mean "deploy_failed"? @ deploy-failed',
      '6:7 error: unknown event "something_else" @ something_else',
    ]);
    expect(check(unknownEvent, 'agent:\n  on: pul_request\n')).toEqual([
      '2:7 error: unknown event "pul_request"; did you mean "pull_request"? @ pul_request',
    ]);
  });

  it('accepts GitHub and Harness events', () => {
    expect(check(unknownEvent, 'pipeline:\n  on: {push: {}, cost_spike: {}, workflow_dispatch: {}}\n')).toEqual([]);
  });
});
