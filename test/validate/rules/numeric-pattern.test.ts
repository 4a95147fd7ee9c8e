import { describe, expect, it } from 'vitest';
import { loadText } from '../../../src/load/load.js';
import { numericPattern } from '../../../src/validate/rules/numeric-pattern.js';
import { check } from './check.js';

const yaml = [
  'pipeline:',
  '  on:',
  '    - push:',
  '        branches: [2, main]',
  '        tags: [1.10, "1.20"]',
  '    - pipeline_failed:',
  '        branches: 3.0',
  '    - cost_spike:',
  '        threshold-percent: 20',
].join('\n');

describe('numeric-pattern', () => {
  it('warns at each pattern written as a number, saying what other YAML readers make of it', () => {
    expect(check(numericPattern, yaml)).toEqual([
      '4:20 warning: branches pattern 2 is a YAML number; trig takes it as written, "2": quote it to say so @ 2',
      '5:16 warning: tags pattern 1.10 is a YAML number (1.1 to other YAML readers); trig takes it as written, "1.10": quote it to say so @ 1.10',
      '7:19 warning: branches pattern 3.0 is a YAML number (3 to other YAML readers); trig takes it as written, "3.0": quote it to say so @ 3.0',
    ]);
  });

  it('is taken as its source text in the definition data that validation and matching read (numbers elsewhere stay numbers)', () => {
    const [document] = loadText('test.yaml', yaml).documents;
    expect(document!.entries.map((e) => e.filters)).toEqual([
      { branches: ['2', 'main'], tags: ['1.10', '1.20'] },
      { branches: '3.0' },
      { 'threshold-percent': 20 },
    ]);
  });
});
