import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, TRIG, trig } from '../helpers/trig.js';

describe('trig, the program', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(trig(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help lists every command and exits 0', () => {
    const result = trig(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['validate', 'fire', 'cron', 'hooks']) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it.each([
    [['frie'], "trig: unknown command 'frie'; did you mean fire?\n"],
    [['validate', '--bogus'], "trig: unknown option '--bogus'\n"],
    [
      ['validate', '--format', 'xml'],
      "trig: option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json, github.\n",
    ],
    [['fire'], "trig: required option '--event <name>' not specified\n"],
  ])('usage error %j: one line on stderr, exit 2', (args, message) => {
    expect(trig(args)).toEqual({ code: 2, stdout: '', stderr: message });
  });
});

describe('path arguments (validate, fire --defs)', () => {
  it('takes globs, matched below their static base', () => {
    expect(trig(['validate', 'fixtures/seed/cost-*.yaml'])).toEqual({
      code: 0,
      stdout: '2 definitions in 2 files: no problems\n',
      stderr: '',
    });
    expect(trig(['validate', 'fixtures/**/progressive-*.yaml']).stdout).toBe('3 definitions in 3 files: no problems\n');
    const fired = trig([
      'fire',
      '--dry-run',
      '--defs',
      'fixtures/seed/cost-*.yaml',
      '--event',
      'cost_spike',
      '--payload',
      'fixtures/payloads/cost_spike.json',
    ]);
    expect(fired.stdout.split('\n').filter((l) => l.includes('matched'))).toEqual([
      'fixtures/seed/cost-spike-agent.yaml: cost-spike-agent: matched cost_spike',
      'fixtures/seed/cost-spike-pipeline.yaml: cost-spike-pipeline: matched cost_spike',
    ]);
  });

  it.each([
    [['validate', 'fixtures/seed/*.yml'], 'trig: fixtures/seed/*.yml: no files match\n'],
    [['validate', 'fixtures/nothing-here'], 'trig: fixtures/nothing-here: no such file or directory\n'],
  ])('%j is a usage error', (args, message) => {
    expect(trig(args)).toEqual({ code: 2, stdout: '', stderr: message });
  });
});

describe('hostile input: one clear line, the right exit code, never a stack trace', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-hostile-'));
  const write = (name: string, text: string | Buffer) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('a YAML document nested too deeply to read', () => {
    const file = write('deep.yaml', `pipeline:\n  on: ${'['.repeat(20000)}${']'.repeat(20000)}\n`);
    const result = trig(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    // The column is where the parser ran out of stack, which varies with Node's stack use.
    expect(result.stdout.split('\n')[0]).toMatch(new RegExp(`^${file}:2:\\d+: the document nests too deeply to read \\[syntax\\]$`));
    // A long line is shown as a window around the column.
    expect(result.stdout.split('\n')[1]!.length).toBeLessThan(140);
  });

  it('an alias bomb', () => {
    const levels = Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`);
    const file = write('bomb.yaml', ['l0: &l0 "lol"', ...levels, 'pipeline: {on: push}', ''].join('\n'));
    const result = trig(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      `${file}:1:1: the document expands aliases too many times to read (a guard against alias bombs) [syntax]`,
    );
    expect(result.stderr).toBe('');
  });

  it('a binary file', () => {
    const file = write('binary.yaml', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919) % 256)));
    const result = trig(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toMatch(/\n\s+at /);
  });

  it('a payload nested a hundred thousand levels deep is refused in one line, before anything walks it', () => {
    const file = write('deep.json', `{"a": ${'['.repeat(100000)}${']'.repeat(100000)}}`);
    const result = trig(['fire', '--dry-run', '--defs', 'fixtures/seed', '--event', 'push', '--payload', file]);
    // The opening bracket of level 513: the object is level 1, and its array starts at column 7.
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `trig: ${file}:1:518: the payload nests more than 512 levels of arrays and objects\n`,
    });
  });

  it('a payload larger than 16 MiB is refused before it is parsed', () => {
    const file = write('huge.json', `{"a": "${'x'.repeat(17 * 1024 * 1024)}"}`);
    expect(trig(['fire', '--dry-run', '--defs', 'fixtures/seed', '--event', 'push', '--payload', file])).toEqual({
      code: 2,
      stdout: '',
      stderr: `trig: ${file}: payload is larger than 16 MiB\n`,
    });
  });
});

describe('a reader that goes away', () => {
  // `true` exits at once, long before trig writes: every write meets a closed pipe.
  const piped = (args: string, dir: string) => {
    const script = `node ${TRIG} ${args} 2>${dir}/stderr.txt | true; echo "\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { code: Number(r.stdout.trim()), stderr: readFileSync(path.join(dir, 'stderr.txt'), 'utf8') };
  };

  it('costs no stack trace, and validate keeps its exit code', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-pipe-'));
    expect(piped('validate fixtures/invalid', dir)).toEqual({ code: 1, stderr: '' });
  });

  it('does not stop a run in flight', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-pipe-'));
    const marker = path.join(dir, 'marker.txt');
    writeFileSync(
      path.join(dir, 'slow.yaml'),
      `pipeline:\n  name: slow\n  on: repo_created\n  stages:\n    - steps:\n        - run:\n            shell: sh\n            script: "echo started; sleep 0.3; echo done > '${marker}'"\n`,
    );
    expect(piped(`fire --event repo_created --defs ${dir}/slow.yaml`, dir)).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(marker, 'utf8')).toBe('done\n');
  });
});
