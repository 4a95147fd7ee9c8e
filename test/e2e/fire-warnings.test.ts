import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, trig } from '../helpers/trig.js';

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

  it('with fire --strict --json, the refused definition lists the warning with its severity, as the output schema says', () => {
    const result = trig(['fire', '--strict', '--json', '--dry-run', '--defs', DEFS, '--event', 'pipeline_failed']);
    const output = JSON.parse(result.stdout) as { definitions: unknown[] };
    const validate = new Ajv2020({ strict: false }).compile(
      JSON.parse(readFileSync(path.join(ROOT, 'schemas/fire-output.schema.json'), 'utf8')),
    );
    expect(validate(output), JSON.stringify(validate.errors)).toBe(true);
    expect(output.definitions).toMatchObject([
      {
        name: 'extra-field',
        valid: false,
        matched: false,
        diagnostics: [{ line: 13, column: 33, severity: 'warning', rule: 'expression' }],
      },
    ]);
  });
});
