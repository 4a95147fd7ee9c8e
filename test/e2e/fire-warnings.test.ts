import { describe, expect, it } from 'vitest';
import { trig } from '../helpers/trig.js';

// A definition with warnings only is valid: validate passes and fire runs it, unless
// --strict makes warnings count.
const DEFS = 'fixtures/runs/extra-field.yaml';
const WARNING =
  'fixtures/runs/extra-field.yaml:13:33: warning: <+trigger.extraField>: this definition\'s event (pipeline_failed) does not list "extraField" (it resolves only if the payload carries it, or from an input "extraField") [expression]';

describe('a <+trigger.x> the catalog does not list', () => {
  it('is a warning for validate (exit 0), and a failure with --strict (exit 1)', () => {
    const plain = trig(['validate', DEFS]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n')[0]).toBe(WARNING);
    expect(plain.stdout).toContain('0 errors, 1 warning in 1 definition in 1 file');
    expect(trig(['validate', '--strict', DEFS]).code).toBe(1);
  });

  it('fires, and the run resolves the value from a payload that carries it', () => {
    const result = trig(['fire', '--defs', DEFS, '--event', 'pipeline_failed', '--payload', '-'], {
      input: JSON.stringify({ repo: 'r', branch: 'main', extraField: 'from-the-payload' }),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[extra-field/echo] extra=from-the-payload\n');
    expect(result.stdout).toContain('1 matched, 1 succeeded');
  });

  it('falls back to an input of the same name when the payload lacks the field', () => {
    const result = trig(['fire', '--defs', DEFS, '--event', 'pipeline_failed', '--input', 'extraField=from-an-input']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[extra-field/echo] extra=from-an-input\n');
  });

  it('with fire --strict the definition is invalid and does not run', () => {
    const result = trig(['fire', '--strict', '--defs', DEFS, '--event', 'pipeline_failed', '--payload', '-'], {
      input: JSON.stringify({ extraField: 'from-the-payload' }),
    });
    expect(result.stdout).toBe(
      'fixtures/runs/extra-field.yaml: extra-field: invalid: not valid (1 problem, warnings included with --strict); run trig validate --strict\n' +
        `  ${WARNING}\n`,
    );
    expect(result.stdout).not.toContain('extra=from');
  });
});
