// trig cron against the real crontab program, on the crontab of the user running the
// tests: it is saved first and put back exactly afterwards (removed again if there was
// none).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIG, trig } from '../helpers/trig.js';

const hasCrontab = spawnSync('sh', ['-c', 'command -v crontab']).status === 0;

function crontabList(): { text: string; none: boolean } {
  const result = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  if (result.status === 0) return { text: result.stdout, none: false };
  if (/no crontab/.test(result.stderr)) return { text: '', none: true };
  throw new Error(`crontab -l: ${result.stderr}`);
}

function crontabSet(text: string | undefined): void {
  const result =
    text === undefined ? spawnSync('crontab', ['-r'], { encoding: 'utf8' }) : spawnSync('crontab', ['-'], { input: text, encoding: 'utf8' });
  if (result.status !== 0 && !(text === undefined && /no crontab/.test(result.stderr))) throw new Error(`crontab: ${result.stderr}`);
}

/** A definition listening to the `on:` lines given, whose one step appends `line` to `file`. */
function markingDefinition(name: string, on: string[], line: string, file: string): string {
  return [
    'version: 1',
    'pipeline:',
    `  name: ${name}`,
    '  on:',
    ...on,
    '  stages:',
    '    - name: s',
    '      steps:',
    '        - name: mark',
    '          run:',
    '            shell: sh',
    '            script: |',
    `              echo "${line}" >> '${file}'`,
  ].join('\n');
}

describe.skipIf(!hasCrontab)('trig cron (the real crontab)', () => {
  let saved: { text: string; none: boolean };
  const temp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'trig-cron-e2e-')));
  // A space and a quote in the path: the entry must quote it for sh.
  const repo = path.join(temp, "my 'repo'");
  const marker = path.join(temp, 'marker.txt');
  const leapMarker = path.join(temp, 'leap-marker.txt');
  const others = "# someone else's entries\nMAILTO=\"\"\n15 3 * * 1  /usr/local/bin/backup --full   \n\n";
  const node = process.execPath;
  const trigBin = realpathSync(TRIG);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const expectedBlock = [
    `# BEGIN trig ${repo}`,
    '# Written by `trig cron install`; `trig cron uninstall` removes this block.',
    '# Every minute trig fires the schedule triggers that are due, each read in its own time zone.',
    `* * * * * cd ${q(repo)} && ${node} ${trigBin} fire --event schedule --at "$(date -u +\\%Y-\\%m-\\%dT\\%H:\\%M:00Z)" --quiet`,
    `# END trig ${repo}`,
    '',
  ].join('\n');

  beforeAll(() => {
    saved = crontabList();
    mkdirSync(path.join(repo, '.harness'), { recursive: true });
    writeFileSync(
      path.join(repo, '.harness', 'tick.yaml'),
      markingDefinition(
        'ticker',
        ['    - schedule:', '        cron: "* * * * *"', '        name: every-minute', '    - schedule:', '        cron: "0 0 1 1 *"', '        timezone: Pacific/Kiritimati'],
        `<+trigger.event> <+trigger.scheduleName> <+trigger.cron> $(pwd)`,
        marker,
      ),
    );
    // Due one minute in four years: fired only when the entry's shell says it is that minute.
    writeFileSync(
      path.join(repo, '.harness', 'leap.yaml'),
      markingDefinition('leap', ['    - schedule:', '        cron: "0 0 29 2 *"', '        timezone: Pacific/Kiritimati'], '<+trigger.event> <+trigger.scheduleName>', leapMarker),
    );
    crontabSet(others);
  });

  afterAll(() => {
    crontabSet(saved.none ? undefined : saved.text);
    rmSync(temp, { recursive: true, force: true });
  });

  it('prints the block without touching the crontab', () => {
    const result = trig(['cron', 'print'], { cwd: repo });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(expectedBlock);
    expect(result.stderr).toContain('"* * * * *" (UTC) as "every-minute"');
    expect(result.stderr).toContain('"0 0 1 1 *" (Pacific/Kiritimati) as "ticker"');
    expect(crontabList().text).toBe(others);
  });

  it('shows the resulting crontab with --dry-run', () => {
    const result = trig(['cron', 'install', '--dry-run'], { cwd: repo });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(others + expectedBlock);
    expect(crontabList().text).toBe(others);
  });

  it('installs the block once, keeping the other entries byte for byte', () => {
    expect(trig(['cron', 'install'], { cwd: repo }).code).toBe(0);
    expect(crontabList().text).toBe(others + expectedBlock);
    const again = trig(['cron', 'install'], { cwd: repo });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing changed');
    expect(crontabList().text).toBe(others + expectedBlock);
  });

  /**
   * Runs the installed entry's command as cron does: cron hands the command after the five
   * fields to sh, with `\%` turned into `%`, in a bare environment, from the user's home
   * directory (a temporary one here: trig keeps its check cache under it).
   */
  function runEntry(pathPrefix = '') {
    const line = crontabList().text.split('\n').find((l) => l.startsWith('* * * * * '))!;
    const command = line.replace(/^(\S+\s+){5}/, '').replace(/\\%/g, '%');
    const home = mkdtempSync(path.join(os.tmpdir(), 'trig-cron-home-'));
    const env = ['-i', `HOME=${home}`, 'SHELL=/bin/sh', `PATH=${pathPrefix}/usr/bin:/bin`];
    const result = spawnSync('env', [...env, 'sh', '-c', command], { cwd: home, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr + result.stdout).toBe(0);
  }

  it("runs the entry's command the way cron does and fires the due schedule", () => {
    runEntry();
    expect(existsSync(marker), 'the script step did not run').toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe(`schedule every-minute * * * * * ${repo}\n`);
    expect(existsSync(leapMarker), 'a schedule that is not due ran').toBe(false);
  });

  it('fires the minute the shell read when cron started the entry', () => {
    // A date(1) that answers what the real one would at 00:00 on 29 February 2028 in
    // Kiritimati (UTC+14): the leap-day schedule is due then, and only then.
    const stubs = mkdtempSync(path.join(temp, 'stubs-'));
    writeFileSync(path.join(stubs, 'date'), '#!/bin/sh\n[ "$*" = "-u +%Y-%m-%dT%H:%M:00Z" ] || exit 64\necho 2028-02-28T10:00:00Z\n', { mode: 0o755 });
    runEntry(`${stubs}:`);
    expect(readFileSync(leapMarker, 'utf8')).toBe('schedule leap\n');
  });

  it('refuses to install when no definition has a schedule', () => {
    const empty = path.join(temp, 'empty');
    mkdirSync(path.join(empty, '.harness'), { recursive: true });
    writeFileSync(path.join(empty, '.harness', 'p.yaml'), 'version: 1\npipeline:\n  name: p\n  on: push\n  stages: []\n');
    const result = trig(['cron', 'install'], { cwd: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no valid schedule trigger/);
    expect(crontabList().text).toBe(others + expectedBlock);
  });

  it('uninstall removes exactly the block', () => {
    const dry = trig(['cron', 'uninstall', '--dry-run'], { cwd: repo });
    expect(dry.stdout).toBe(others);
    expect(crontabList().text).toBe(others + expectedBlock);
    expect(trig(['cron', 'uninstall'], { cwd: repo }).code).toBe(0);
    expect(crontabList().text).toBe(others);
    expect(trig(['cron', 'uninstall'], { cwd: repo }).stderr).toContain('nothing changed');
  });

  it('leaves no crontab when the block was all there was', () => {
    crontabSet(undefined);
    expect(trig(['cron', 'install'], { cwd: repo }).code).toBe(0);
    expect(crontabList().text).toBe(expectedBlock);
    expect(trig(['cron', 'uninstall'], { cwd: repo }).code).toBe(0);
    expect(crontabList()).toEqual({ text: '', none: true });
  });
});
