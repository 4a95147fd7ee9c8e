import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE_DIR, ROOT, TRIG } from '../helpers/trig.js';

// Hostile input must end in a one-line error with exit 1 or 2, never an internal error
// (exit 70) or a stack trace, must not buffer without bound, and must leave nothing
// behind. Each trig process here gets its own TMPDIR, so that a stray `trig-run-*`
// folder is seen, and records its peak memory on exit (a preload script).

const RSS_PRELOAD = path.join(mkdtempSync(path.join(tmpdir(), 'trig-test-rss-')), 'rss.cjs');
writeFileSync(
  RSS_PRELOAD,
  "process.on('exit', () => { if (process.env.TRIG_TEST_RSS_FILE) require('fs').writeFileSync(process.env.TRIG_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n",
);
// Should a regression read without bound again, the address space limit stops it long
// before it can take the machine's memory (the peak memory assertion still fails).
const PRLIMIT = existsSync('/usr/bin/prlimit') ? ['/usr/bin/prlimit', '--as=4000000000', '--'] : [];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the process left in its private TMPDIR. */
  leftovers: string[];
  /** Peak resident memory in MiB. */
  peakMiB: number;
  seconds: number;
}

function run(args: string[], options: { cwd?: string; input?: string; stdinFile?: string } = {}): Outcome {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-hostile-'));
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  const rssFile = path.join(dir, 'rss');
  const stdin = options.stdinFile ? openSync(options.stdinFile, 'r') : 'pipe';
  const [command, ...rest] = [...PRLIMIT, process.execPath, TRIG, ...args];
  const started = performance.now();
  try {
    const result = spawnSync(command!, rest, {
      cwd: options.cwd ?? ROOT,
      input: options.stdinFile ? undefined : (options.input ?? ''),
      stdio: [stdin, 'pipe', 'pipe'],
      encoding: 'utf8',
      env: {
        ...process.env,
        NO_COLOR: '1',
        FORCE_COLOR: undefined,
        TRIG_CACHE_DIR: CACHE_DIR,
        TMPDIR: tmp,
        NODE_OPTIONS: `--require ${RSS_PRELOAD}`,
        TRIG_TEST_RSS_FILE: rssFile,
      },
      timeout: 20_000,
    });
    const peakKiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : Infinity;
    return {
      code: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      leftovers: readdirSync(tmp),
      peakMiB: peakKiB / 1024,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (typeof stdin === 'number') closeSync(stdin);
  }
}

/** A folder with one definition that runs on push and prints what it was given. */
function definitions(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-defs-'));
  writeFileSync(path.join(dir, 'def.yaml'), yaml);
  return dir;
}

const ECHO_REPO = definitions(`pipeline:
  on: push
  stages:
    - steps:
        - run: echo "repo=<+trigger.repo>"
`);

describe('payloads are read with a bound, whatever kind of file they come from', () => {
  it('--payload /dev/zero stops at 16 MiB: one line, exit 2, quickly, in bounded memory', () => {
    const result = run(['fire', '--defs', ECHO_REPO, '--event', 'push', '--payload', '/dev/zero']);
    expect([result.code, result.stdout, result.stderr]).toEqual([2, '', 'trig: /dev/zero: payload is larger than 16 MiB\n']);
    expect(result.leftovers).toEqual([]);
    expect(result.seconds).toBeLessThan(15);
    expect(result.peakMiB).toBeLessThan(250);
  });

  it('trig validate /dev/zero stops at 16 MiB too: the file is reported, exit 1, quickly, in bounded memory', () => {
    const result = run(['validate', '/dev/zero']);
    expect([result.code, result.stdout, result.stderr]).toEqual([
      1,
      '/dev/zero:1:1: the file is larger than 16 MiB [file]\n1 error, 0 warnings in 0 definitions in 1 file\n',
      '',
    ]);
    expect(result.seconds).toBeLessThan(15);
    expect(result.peakMiB).toBeLessThan(250);
  });

  it('--payload - with /dev/zero as standard input stops at 16 MiB too', () => {
    const result = run(['fire', '--defs', ECHO_REPO, '--event', 'push', '--payload', '-'], { stdinFile: '/dev/zero' });
    expect([result.code, result.stdout, result.stderr]).toEqual([2, '', 'trig: standard input: payload is larger than 16 MiB\n']);
    expect(result.peakMiB).toBeLessThan(250);
  });

  it('a payload of exactly 16 MiB is still read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-payload-'));
    const file = path.join(dir, 'big.json');
    const head = '{"repo": "big", "pad": "';
    const tail = '"}';
    writeFileSync(file, head + 'x'.repeat(16 * 1024 * 1024 - head.length - tail.length) + tail);
    const result = run(['fire', '--defs', ECHO_REPO, '--event', 'push', '--payload', file, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('TRIG_TRIGGER_REPO="big"');
  });
});

describe('hostile input ends in a one-line error, exit 1 or 2, and leaves nothing behind', () => {
  it('a payload nested 5,000 levels deep is refused at the level past the limit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-payload-'));
    const file = path.join(dir, 'deep.json');
    writeFileSync(file, '{"a":'.repeat(5000) + '1' + '}'.repeat(5000));
    const result = run(['fire', '--defs', ECHO_REPO, '--event', 'push', '--payload', file]);
    // Level 513 opens at column 5 * 512 + 1.
    expect([result.code, result.stdout, result.stderr]).toEqual([
      2,
      '',
      `trig: ${file}:1:2561: the payload nests more than 512 levels of arrays and objects\n`,
    ]);
    expect(result.leftovers).toEqual([]);
  });

  it('a payload nested 512 levels deep still runs, and its run folder is removed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-payload-'));
    const file = path.join(dir, 'deep.json');
    writeFileSync(file, '{"repo": "deep", "a":' + '{"a":'.repeat(510) + '[1]' + '}'.repeat(511));
    const result = run(['fire', '--defs', ECHO_REPO, '--event', 'push', '--payload', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[def/step-1] repo=deep\n');
    expect(result.stderr).toBe('');
    expect(result.leftovers).toEqual([]);
  });

  it.each(['constructor', 'valueOf', 'toString'])('an input named %s is an input like any other', (name) => {
    const defs = definitions(`pipeline:
  on: push
  inputs:
    ${name}:
      type: number
      default: 3
  stages:
    - steps:
        - run: echo "value=<+inputs.${name}> trigger=<+trigger.${name}>"
`);
    const byDefault = run(['fire', '--defs', defs, '--event', 'push']);
    expect([byDefault.code, byDefault.stderr]).toEqual([0, '']);
    expect(byDefault.stdout).toContain('[def/step-1] value=3 trigger=3\n');
    const given = run(['fire', '--defs', defs, '--event', 'push', '--input', `${name}=7`]);
    expect([given.code, given.stderr]).toEqual([0, '']);
    expect(given.stdout).toContain('[def/step-1] value=7 trigger=7\n');
    const wrong = run(['fire', '--defs', defs, '--event', 'push', '--input', `${name}=seven`, '--dry-run']);
    expect([wrong.code, wrong.stderr]).toEqual([0, '']);
    expect(wrong.stdout).toBe(`${defs}/def.yaml: def: matched push, not run: input "${name}" is a number; got "seven"\n`);
    for (const r of [byDefault, given, wrong]) expect(r.leftovers).toEqual([]);
  });
});

describe('an expression nested 20,000 levels deep', () => {
  const nest = '<+'.repeat(20_000) + 'trigger.repo' + '>'.repeat(20_000);
  const defs = definitions(`pipeline:
  on: push
  stages:
    - steps:
        - run: echo ${nest}
`);

  it('is one problem to validate, at its place, exit 1', () => {
    const result = run(['validate', '--no-cache', defs]);
    expect([result.code, result.stderr]).toEqual([1, '']);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`${defs}/def.yaml:5:21: expression nested more than 16 levels deep: "${nest.slice(0, 60)}…" [expression]`);
    expect(lines.at(-2)).toBe('1 error, 0 warnings in 1 definition in 1 file');
    expect(result.seconds).toBeLessThan(15);
  });

  it('keeps its definition from firing, and fire says why', () => {
    const result = run(['fire', '--no-cache', '--defs', defs, '--event', 'push']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.split('\n')[0]).toBe(`${defs}/def.yaml: def: invalid: not valid (1 problem); run trig validate`);
    expect(result.leftovers).toEqual([]);
  });
});

describe('trig cron in a directory whose name has a line break', () => {
  it.each([['print'], ['install', '--dry-run']])('cron %s refuses at once: a crontab line cannot hold it', (...args) => {
    const repo = path.join(realpathSync(mkdtempSync(path.join(tmpdir(), 'trig-test-cron-'))), 'two\nlines');
    mkdirSync(path.join(repo, '.harness'), { recursive: true });
    writeFileSync(path.join(repo, '.harness', 'nightly.yaml'), 'pipeline:\n  on:\n    schedule:\n      cron: "0 3 * * *"\n  stages: []\n');
    const result = run(['cron', ...args], { cwd: repo });
    expect([result.code, result.stdout, result.stderr]).toEqual([
      2,
      '',
      `trig: the directory ${JSON.stringify(repo)} has a line break in its name, which a crontab line cannot hold\n`,
    ]);
  });
});

describe('a YAML alias inside its own anchor (a: &a [*a])', () => {
  const defs = definitions('pipeline:\n  on: push\n  stages: &a\n    - steps: *a\n');

  it('is one error to validate, at the alias, exit 1', () => {
    const result = run(['validate', '--no-cache', defs]);
    expect([result.code, result.stderr]).toEqual([1, '']);
    expect(result.stdout).toBe(
      `${defs}/def.yaml:4:14: the alias *a is inside the node its anchor &a names: the value would contain itself [syntax]\n` +
        '4 |     - steps: *a\n' +
        '  |              ^~\n' +
        '1 error, 0 warnings in 0 definitions in 1 file\n',
    );
  });

  it('keeps fire from running anything, without an internal error or a leftover folder', () => {
    const result = run(['fire', '--no-cache', '--defs', defs, '--event', 'push']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.split('\n')[0]).toBe(`${defs}/def.yaml: ${defs}/def.yaml: invalid: the file is not valid YAML`);
    expect(result.leftovers).toEqual([]);
  });
});
