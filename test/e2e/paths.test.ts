import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE_DIR, TRIG, trig } from '../helpers/trig.js';

// Files trig meets while reading definitions that are not plain readable text files.

const GOOD = `pipeline:
  on: push
  stages:
    - steps:
        - run: echo fired
`;

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-paths-'));
  writeFileSync(path.join(dir, 'good.yaml'), GOOD);
  return dir;
}

function mkfifo(file: string): void {
  const made = spawnSync('mkfifo', [file]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
}

describe('a named pipe inside a definitions folder', () => {
  it('is skipped with a warning, not waited on; the other files are validated', () => {
    const dir = folder();
    mkfifo(path.join(dir, 'pipe.yaml'));
    const result = trig(['validate', dir]);
    expect(result).toEqual({
      code: 0,
      stdout: '1 definition in 1 file: no problems\n',
      stderr: `trig: warning: skipped ${dir}/pipe.yaml: a named pipe, not a definition file\n`,
    });
  });

  it('is skipped by fire too, and the other definitions fire', () => {
    const dir = folder();
    mkfifo(path.join(dir, 'pipe.yaml'));
    const result = trig(['fire', '--defs', dir, '--event', 'push']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`trig: warning: skipped ${dir}/pipe.yaml: a named pipe, not a definition file\n`);
    expect(result.stdout).toContain('[good/step-1] fired\n');
  });

  it('and one a glob matches is skipped the same way', () => {
    const dir = folder();
    mkfifo(path.join(dir, 'pipe.yaml'));
    const result = trig(['validate', `${dir}/*.yaml`]);
    expect(result).toEqual({
      code: 0,
      stdout: '1 definition in 1 file: no problems\n',
      stderr: `trig: warning: skipped ${dir}/pipe.yaml: a named pipe, not a definition file\n`,
    });
  });

  it('while a pipe named on the command line is read, as in trig validate <(…)', () => {
    const dir = folder();
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${TRIG}" validate <(cat "${dir}/good.yaml")`], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR },
      timeout: 30_000,
    });
    expect([result.status, result.stdout, result.stderr]).toEqual([0, '1 definition in 1 file: no problems\n', '']);
  });
});

/** A folder with one good definition and files that cannot be read, each in its own way. */
function brokenFolder(): string {
  const dir = folder();
  symlinkSync('nowhere.yaml', path.join(dir, 'dangling.yaml'));
  symlinkSync('loop-b.yaml', path.join(dir, 'loop-a.yaml'));
  symlinkSync('loop-a.yaml', path.join(dir, 'loop-b.yaml'));
  writeFileSync(path.join(dir, 'latin1.yaml'), Buffer.from('pipeline:\n  name: caf\xe9\n  on: push\n  stages: []\n', 'latin1'));
  return dir;
}

const BROKEN_REPORT = (dir: string) =>
  [
    `${dir}/dangling.yaml:1:1: cannot read the file: it is a symbolic link to nothing (or it was removed) [file]`,
    `${dir}/latin1.yaml:2:12: the file is not UTF-8 text (byte 0xe9 here); definitions are UTF-8 [file]`,
    '2 |   name: caf\ufffd',
    '  |            ^',
    `${dir}/loop-a.yaml:1:1: cannot read the file: its symbolic links form a loop [file]`,
    `${dir}/loop-b.yaml:1:1: cannot read the file: its symbolic links form a loop [file]`,
    '4 errors, 0 warnings in 1 definition in 5 files',
    '',
  ].join('\n');

describe('files that cannot be read are reported with the others, exit 1', () => {
  it('validate: a dangling symlink, a symlink loop and a file that is not UTF-8, each said as such; the good file is checked', () => {
    const dir = brokenFolder();
    expect(trig(['validate', dir])).toEqual({ code: 1, stdout: BROKEN_REPORT(dir), stderr: '' });
  });

  it('validate --format json lists them as errors of rule "file"', () => {
    const dir = brokenFolder();
    const result = trig(['validate', '--format', 'json', dir]);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as {
      files: number;
      definitions: number;
      diagnostics: { file: string; rule: string; line: number }[];
    };
    expect([json.files, json.definitions]).toEqual([5, 1]);
    expect(json.diagnostics.map((d) => [path.basename(d.file), d.rule, d.line])).toEqual([
      ['dangling.yaml', 'file', 1],
      ['latin1.yaml', 'file', 2],
      ['loop-a.yaml', 'file', 1],
      ['loop-b.yaml', 'file', 1],
    ]);
  });

  it('fire: the good definition still fires, each unreadable file is reported, and the fire exits 1', () => {
    const dir = brokenFolder();
    const result = trig(['fire', '--defs', dir, '--event', 'push']);
    expect([result.code, result.stderr]).toEqual([1, '']);
    expect(result.stdout).toContain('[good/step-1] fired\n');
    expect(result.stdout).toContain(
      `${dir}/loop-a.yaml: ${dir}/loop-a.yaml: invalid: cannot read the file: its symbolic links form a loop\n`,
    );
    expect(result.stdout).toContain(
      `${dir}/dangling.yaml: ${dir}/dangling.yaml: invalid: cannot read the file: it is a symbolic link to nothing (or it was removed)\n`,
    );
    const dry = trig(['fire', '--defs', dir, '--event', 'push', '--dry-run']);
    expect(dry.code).toBe(1);
  });

  it('a symlink loop named on the command line says so, not "no such file"', () => {
    const dir = brokenFolder();
    const result = trig(['validate', `${dir}/loop-a.yaml`]);
    expect(result).toEqual({
      code: 1,
      stdout: `${dir}/loop-a.yaml:1:1: cannot read the file: its symbolic links form a loop [file]\n1 error, 0 warnings in 0 definitions in 1 file\n`,
      stderr: '',
    });
  });

  it('a path that names nothing is still a usage error, exit 2', () => {
    const dir = folder();
    expect(trig(['validate', `${dir}/missing.yaml`])).toEqual({
      code: 2,
      stdout: '',
      stderr: `trig: ${dir}/missing.yaml: no such file or directory\n`,
    });
  });

  it('a file without read permission, as a user other than root (nobody via setpriv when the tests run as root)', (context) => {
    const dir = folder();
    writeFileSync(path.join(dir, 'secret.yaml'), GOOD);
    chmodSync(path.join(dir, 'secret.yaml'), 0o000);
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'good.yaml'), 0o644);
    const asRoot = process.getuid?.() === 0;
    const setpriv = spawnSync('setpriv', ['--version']);
    if (asRoot && setpriv.status !== 0) {
      context.skip('running as root without setpriv: root reads a mode-000 file, so there is no one to be refused');
    }
    const command = asRoot ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath] : [process.execPath];
    // --no-cache: the test's cache folder belongs to whoever runs the tests, not to nobody.
    const result = spawnSync(command[0]!, [...command.slice(1), TRIG, 'validate', '--no-cache', dir], {
      cwd: '/',
      encoding: 'utf8',
      env: { PATH: process.env.PATH, NO_COLOR: '1', HOME: '/nonexistent' },
      timeout: 30_000,
    });
    expect([result.status, result.stdout, result.stderr]).toEqual([
      1,
      `${dir}/secret.yaml:1:1: cannot read the file: permission denied [file]\n1 error, 0 warnings in 1 definition in 2 files\n`,
      '',
    ]);
  });
});
