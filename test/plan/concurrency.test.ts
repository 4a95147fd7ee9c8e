import { describe, expect, it } from 'vitest';
import { describeDefinition } from '../../src/load/definition.js';
import { planRun, type PlanOptions } from '../../src/plan/plan.js';

const options: PlanOptions = { inputs: {}, env: { PATH: '', TRIG_SECRET_TOKEN: 'hunter2' }, workdir: '/work', containerRuntime: 'docker' };
const planned = (concurrency: unknown, trigger: Record<string, unknown> = {}, inputs: Record<string, string> = {}) =>
  planRun(
    describeDefinition('def.yaml', 0, 'def', {
      pipeline: {
        inputs: { env: { type: 'string', default: 'prod' }, token: { type: 'secret' } },
        concurrency,
        stages: [],
      },
    }),
    trigger,
    { ...options, inputs },
  );

describe('the plan of a concurrency group', () => {
  it('resolves the short form, expressions included; cancel-in-progress is off', () => {
    expect(planned('ci-<+trigger.branch>', { branch: 'main' })).toMatchObject({
      plan: { concurrency: { name: 'ci-main', cancelInProgress: false }, problems: [] },
    });
  });

  it('resolves the mapping form: group from inputs and payload, cancel-in-progress as written or from an expression', () => {
    const trigger = { payload: { repository: { name: 'shop' } } };
    expect(planned({ group: '<+inputs.env>-<+trigger.payload.repository.name>', 'cancel-in-progress': true }, trigger)).toMatchObject({
      plan: { concurrency: { name: 'prod-shop', cancelInProgress: true } },
    });
    expect(planned({ group: 'g', 'cancel-in-progress': '<+trigger.cancel>' }, { cancel: true })).toMatchObject({
      plan: { concurrency: { name: 'g', cancelInProgress: true } },
    });
    expect(planned({ group: 'g', 'cancel-in-progress': '<+trigger.cancel>' }, { cancel: 'false' })).toMatchObject({
      plan: { concurrency: { name: 'g', cancelInProgress: false } },
    });
  });

  it('has no group without concurrency', () => {
    const result = planned(undefined);
    expect('plan' in result && result.plan.concurrency).toBe(undefined);
  });

  it('keeps a partly resolved name, saying what had no value', () => {
    expect(planned('ci-<+trigger.branch>')).toMatchObject({
      plan: {
        concurrency: { name: 'ci-' },
        problems: ['concurrency: <+trigger.branch> has no value: the event does not carry "branch" and there is no input "branch"'],
      },
    });
  });

  it('does not run a definition whose group is empty for the event', () => {
    expect(planned('<+trigger.branch>')).toEqual({
      stop: 'concurrency group "<+trigger.branch>" is empty for this event',
      secrets: ['hunter2'],
    });
  });

  it('does not run a definition whose group would hold a secret, and masks it', () => {
    expect(planned('g-<+inputs.token>')).toEqual({
      stop: 'concurrency group "g-<+inputs.token>" would hold a secret value',
      secrets: ['hunter2'],
    });
  });

  it('does not run a definition whose cancel-in-progress is neither true nor false', () => {
    expect(planned({ group: 'g', 'cancel-in-progress': '<+trigger.cancel>' }, { cancel: 'maybe' })).toEqual({
      stop: 'concurrency cancel-in-progress "<+trigger.cancel>" is "maybe" for this event, not true or false',
      secrets: ['hunter2'],
    });
  });
});
