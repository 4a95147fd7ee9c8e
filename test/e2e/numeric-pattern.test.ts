import { describe, expect, it } from 'vitest';
import { trig } from '../helpers/trig.js';

// `tags: [1.10]` is the YAML number 1.1; trig matches the text written, 1.10.
const DEFS = 'fixtures/invalid/numeric-pattern.yaml';

function fire(payload: Record<string, unknown>) {
  return trig(['fire', '--dry-run', '--explain', '--defs', DEFS, '--event', 'push', '--payload', '-'], { input: JSON.stringify(payload) });
}

describe('a filter pattern written as a YAML number', () => {
  it('matches the text written: tag 1.10 fires, tag 1.1 does not', () => {
    const tenth = fire({ tag: '1.10' });
    expect(tenth.code).toBe(0);
    expect(tenth.stdout.split('\n')[0]).toBe('fixtures/invalid/numeric-pattern.yaml: numeric-pattern: matched push {tags, branches}');
    const first = fire({ tag: '1.1' });
    expect(first.stdout).toBe('fixtures/invalid/numeric-pattern.yaml: numeric-pattern: not matched: tags: "1.1" matched none of [1.10]\n');
    expect(fire({ branch: '2' }).stdout.split('\n')[0]).toBe(
      'fixtures/invalid/numeric-pattern.yaml: numeric-pattern: matched push {tags, branches}',
    );
  });
});
