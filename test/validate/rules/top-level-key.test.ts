import { describe, expect, it } from 'vitest';
import { topLevelKey } from '../../../src/validate/rules/top-level-key.js';
import { check } from './check.js';

describe('top-level-key', () => {
  it.each([
    ['agents', 'agent'],
    ['pipelines', 'pipeline'],
    ['Pipeline', 'pipeline'],
  ])('names %s as a misspelt root', (key, root) => {
    expect(check(topLevelKey, `version: 1\n${key}:\n  on: push\n`)).toEqual([
      `2:1 error: unknown top-level key "${key}"; did you mean "${root}"? @ ${key}`,
    ]);
  });

  it('reports pipeline and agent together, at the second', () => {
    expect(check(topLevelKey, 'agent:\n  on: push\npipeline:\n  on: push\n')).toEqual([
      '3:1 error: a definition has either "pipeline" or "agent", not both ("agent" is an alias of "pipeline"); put the second one in its own document @ pipeline',
    ]);
  });

  it('leaves other keys to the schema', () => {
    expect(check(topLevelKey, 'version: 1\nkind: pipeline\npipeline:\n  on: push\n')).toEqual([]);
  });
});
