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
