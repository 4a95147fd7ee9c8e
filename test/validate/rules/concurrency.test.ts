import { describe, expect, it } from 'vitest';
import { concurrency } from '../../../src/validate/rules/concurrency.js';
import { check } from './check.js';

const pipeline = (...lines: string[]) =>
  [
    'pipeline:',
    '  inputs:',
    '    env:',
    '      type: string',
    '    token:',
    '      type: secret',
    '  on: push',
    ...lines.map((l) => `  ${l}`),
  ].join('\n');

describe('concurrency', () => {
  it('accepts both forms with trigger, payload and input expressions', () => {
    expect(check(concurrency, pipeline('concurrency: ci-<+trigger.branch>'))).toEqual([]);
    expect(
      check(concurrency, pipeline('concurrency:', '  group: <+inputs.env>-<+eventPayload.repository.name>', '  cancel-in-progress: true')),
    ).toEqual([]);
    expect(check(concurrency, pipeline('concurrency:', '  group: deploy', '  cancel-in-progress: <+inputs.env>'))).toEqual([]);
  });

  it('refuses an empty group, written short or long', () => {
    const message = 'the concurrency group is empty; name it (for example ci-<+trigger.branch>)';
    expect(check(concurrency, pipeline('concurrency: ""'))).toEqual([`8:16 error: ${message} @ ""`]);
    expect(check(concurrency, pipeline('concurrency:', '  group: "  "'))).toEqual([`9:12 error: ${message} @ "  "`]);
  });

  it('refuses expressions that have a value only on the platform, at the expression', () => {
    expect(check(concurrency, pipeline('concurrency: ci-<+pipeline.sequenceId>'))).toEqual([
      '8:19 error: <+pipeline.sequenceId>: "pipeline" has a value only while the pipeline runs on the platform, and trig settles concurrency before the run; use <+trigger.…> or <+inputs.…> @ <+pipeline.sequenceId>',
    ]);
    expect(check(concurrency, pipeline('concurrency:', '  group: g', '  cancel-in-progress: <+stage.name>'))).toEqual([
      '10:25 error: <+stage.name>: "stage" has a value only while the pipeline runs on the platform, and trig settles concurrency before the run; use <+trigger.…> or <+inputs.…> @ <+stage.name>',
    ]);
  });

  it('refuses secrets in the group: a secret input or a secret reference', () => {
    const message = 'concurrency must not hold a secret: the group is stored with every run and shown';
    expect(check(concurrency, pipeline('concurrency: g-<+inputs.token>'))).toEqual([
      `8:18 error: <+inputs.token>: ${message} @ <+inputs.token>`,
    ]);
    expect(check(concurrency, pipeline('concurrency: g-<+secrets.getValue("k")>'))).toEqual([
      `8:18 error: <+secrets.getValue("k")>: ${message} @ <+secrets.getValue("k")>`,
    ]);
  });

  it("warns that a stage's concurrency is not applied by trig", () => {
    expect(check(concurrency, pipeline('stages:', '  - name: s', '    concurrency: s', '    steps: []'))).toEqual([
      "10:7 warning: trig does not apply a stage's concurrency (the platform does); a concurrency group for trig's runs goes on the pipeline @ concurrency",
    ]);
  });

  it('leaves wrong shapes to the schema', () => {
    expect(check(concurrency, pipeline('concurrency: 3'))).toEqual([]);
    expect(check(concurrency, pipeline('concurrency: {group: [a]}'))).toEqual([]);
    expect(check(concurrency, 'agent: 3')).toEqual([]);
  });
});
