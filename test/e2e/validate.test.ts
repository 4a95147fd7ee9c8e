import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NON_RULE_DIAGNOSTICS, RULES } from '../../src/validate/rules/index.js';
import { ROOT, TRIG, trig } from '../helpers/trig.js';

// Golden files: fixtures/invalid/<case>.expected holds `# exit <code>` on its first
// line, then the exact stdout of `trig validate fixtures/invalid/<case>.yaml` run from
// the repository root. UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
const INVALID = 'fixtures/invalid';
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(path.join(ROOT, INVALID))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

describe('golden: trig validate fixtures/invalid/<case>.yaml', () => {
  // Derived from the rule list: a new rule fails here until it has its case.
  it.each(RULES.map((rule) => rule.name))('has a case for rule %s, named after it, whose output shows the rule', (name) => {
    expect(cases).toContain(name);
    expect(readFileSync(path.join(ROOT, INVALID, `${name}.expected`), 'utf8')).toContain(` [${name}]\n`);
  });

  it.each(NON_RULE_DIAGNOSTICS.map((kind) => kind.name))('has a case whose output shows a %s diagnostic', (name) => {
    const shown = cases.filter((c) => readFileSync(path.join(ROOT, INVALID, `${c}.expected`), 'utf8').includes(` [${name}]\n`));
    expect(shown).not.toEqual([]);
  });

  it('has the cases beyond one per rule', () => {
    for (const name of ['glob-pattern-undefined', 'schema-pipeline', 'schema-agent', 'schema-list-item', 'codereview', 'file-not-utf8']) {
      expect(cases).toContain(name);
    }
  });

  it.each(cases)('%s', (name) => {
    const result = trig(['validate', `${INVALID}/${name}.yaml`]);
    expect(result.stderr).toBe('');
    const actual = `# exit ${result.code}\n${result.stdout}`;
    const golden = path.join(ROOT, INVALID, `${name}.expected`);
    if (UPDATE) writeFileSync(golden, actual);
    expect(actual).toBe(readFileSync(golden, 'utf8'));
  });
});

describe('trig validate on valid definitions', () => {
  it('finds no problem in the seed examples', () => {
    const result = trig(['validate', 'fixtures/seed']);
    expect(result).toEqual({ code: 0, stdout: '8 definitions in 8 files: no problems\n', stderr: '' });
  });

  it('finds no problem in the extra valid fixtures, near misses of every rule', () => {
    const result = trig(['validate', 'fixtures/valid']);
    expect(result).toEqual({ code: 0, stdout: '1 definition in 1 file: no problems\n', stderr: '' });
  });
});

describe('trig validate output formats', () => {
  it('--format json has the documented shape', () => {
    const result = trig(['validate', '--format', 'json', `${INVALID}/multi-document.yaml`]);
    expect(result.code).toBe(1);
    const file = `${INVALID}/multi-document.yaml`;
    expect(JSON.parse(result.stdout)).toEqual({
      format: 1,
      files: 1,
      definitions: 3,
      errors: 2,
      warnings: 1,
      diagnostics: [
        {
          file,
          line: 25,
          column: 9,
          endLine: 25,
          endColumn: 14,
          severity: 'error',
          rule: 'unknown-filter',
          message: 'flag_stale has no filter "flags": it takes no filters',
        },
        {
          file,
          line: 34,
          column: 21,
          endLine: 34,
          endColumn: 44,
          severity: 'warning',
          rule: 'expression',
          message:
            '<+trigger.featureFlags>: this definition\'s event (flag_stale) does not list "featureFlags"; did you mean "featureFlag"? (it resolves only if the payload carries it, or from an input "featureFlags")',
        },
        {
          file,
          line: 37,
          column: 1,
          endLine: 37,
          endColumn: 10,
          severity: 'error',
          rule: 'top-level-key',
          message: 'unknown top-level key "pipelines"; did you mean "pipeline"?',
        },
      ],
      skipped: [
        {
          file,
          line: 16,
          column: 1,
          kind: 'template',
          message: 'skipped a template document: trig checks pipeline and agent definitions',
        },
      ],
    });
  });

  it('--format github emits workflow commands with positions', () => {
    const result = trig(['validate', '--format', 'github', `${INVALID}/glob-pattern.yaml`]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.slice(0, line.indexOf(',endLine')))).toEqual([
      '::warning file=fixtures/invalid/glob-pattern.yaml,line=8,col=13',
      '::error file=fixtures/invalid/glob-pattern.yaml,line=9,col=16',
      '::warning file=fixtures/invalid/glob-pattern.yaml,line=11,col=19',
      '::error file=fixtures/invalid/glob-pattern.yaml,line=12,col=24',
    ]);
    expect(lines[1]).toBe(
      '::error file=fixtures/invalid/glob-pattern.yaml,line=9,col=16,endLine=9,endColumn=24,title=trig glob-pattern::tags pattern "[z-a]*": range `z-a` in `[z-a]` is reversed and matches nothing [glob-pattern]',
    );
  });

  it('--format github turns skipped documents into notices', () => {
    const result = trig(['validate', '--format', 'github', `${INVALID}/multi-document.yaml`]);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(
      '::notice file=fixtures/invalid/multi-document.yaml,line=16,col=1::skipped a template document: trig checks pipeline and agent definitions',
    );
  });
});

describe('trig validate exit codes', () => {
  it('exits 0 on warnings alone, and 1 with --strict', () => {
    const file = `${INVALID}/glob-pattern-warning.yaml`;
    expect(trig(['validate', file]).code).toBe(0);
    const strict = trig(['validate', '--strict', file]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('0 errors, 1 warning in 1 definition in 1 file');
  });

  it('reads a pipe as a file, afresh every time (its stat says nothing of its content)', () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'trig-pipe-cache-'));
    // A shell pipe, as `git show … | trig validate /dev/stdin` makes.
    const piped = (text: string) => {
      const r = spawnSync('sh', ['-c', `printf '${text}' | "${process.execPath}" "${TRIG}" validate /dev/stdin`], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: cache },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const bad = piped('pipeline:\\n  on: pipline_failed\\n');
    expect([bad.code, bad.stdout.split('\n')[0], bad.stderr]).toEqual([
      1,
      '/dev/stdin:2:7: unknown event "pipline_failed"; did you mean "pipeline_failed"? [unknown-event]',
      '',
    ]);
    expect(piped('pipeline:\\n  on: pipeline_failed\\n')).toEqual({ code: 0, stdout: '1 definition in 1 file: no problems\n', stderr: '' });
    expect(piped('pipeline:\\n  on: pipline_failed\\n')).toEqual(bad);
  });

  it('exits 2 with one line for a missing path', () => {
    const result = trig(['validate', 'fixtures/no-such-file.yaml']);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'trig: fixtures/no-such-file.yaml: no such file or directory\n' });
  });

  describe('in a folder without .harness/', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-validate-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 2 with one line when no path is given', () => {
      const result = trig(['validate'], { cwd: dir });
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderr: 'trig: no .harness/ folder here; name the definition files or folders to use\n',
      });
    });
  });
});

describe('colour', () => {
  const ESC = '\u001b[';
  const file = `${INVALID}/cron.yaml`;

  it('is off when output is piped, and with NO_COLOR even when forced', () => {
    expect(trig(['validate', file], { env: { NO_COLOR: undefined } }).stdout).not.toContain(ESC);
    expect(trig(['validate', file], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } }).stdout).not.toContain(ESC);
  });

  it('is on when forced (so the checks above can fail)', () => {
    expect(trig(['validate', file], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } }).stdout).toContain(ESC);
  });
});
