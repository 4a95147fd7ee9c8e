import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, trig } from '../helpers/trig.js';

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
    [['validate', '--format', 'xml'], "trig: option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json, github.\n"],
    [['fire'], "trig: required option '--event <name>' not specified\n"],
  ])('usage error %j: one line on stderr, exit 2', (args, message) => {
    expect(trig(args)).toEqual({ code: 2, stdout: '', stderr: message });
  });
});

describe('path arguments (validate, fire --defs)', () => {
  it('takes globs, matched below their static base', () => {
    expect(trig(['validate', 'fixtures/seed/cost-*.yaml'])).toEqual({ code: 0, stdout: '2 definitions in 2 files: no problems\n', stderr: '' });
    expect(trig(['validate', 'fixtures/**/progressive-*.yaml']).stdout).toBe('3 definitions in 3 files: no problems\n');
    const fired = trig(['fire', '--dry-run', '--defs', 'fixtures/seed/cost-*.yaml', '--event', 'cost_spike', '--payload', 'fixtures/payloads/cost_spike.json']);
    expect(fired.stdout.split('\n').filter((l) => l.includes('matched'))).toEqual([
      'fixtures/seed/cost-spike-agent.yaml: cost-spike-agent: matched cost_spike',
      'fixtures/seed/cost-spike-pipeline.yaml: cost-spike-pipeline: matched cost_spike',
    ]);
  });

  it.each([
    [['validate', 'fixtures/seed/*.yml'], "trig: fixtures/seed/*.yml: no files match\n"],
    [['validate', 'fixtures/nothing-here'], 'trig: fixtures/nothing-here: no such file or directory\n'],
  ])('%j is a usage error', (args, message) => {
    expect(trig(args)).toEqual({ code: 2, stdout: '', stderr: message });
  });
});
