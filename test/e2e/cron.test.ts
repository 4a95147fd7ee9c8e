// trig cron against the real crontab program, on the crontab of the user running the
// tests: it is saved first and put back exactly afterwards (removed again if there was
// none).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shQuote } from '../../src/shared/shell.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { TRIG, trig } from '../helpers/trig.js';

const crontabProgram = spawnSync('sh', ['-c', 'command -v crontab'], { encoding: 'utf8' }).stdout.trim();
const hasCrontab = crontabProgram !== '';
const realDate = spawnSync('sh', ['-c', 'command -v date'], { encoding: 'utf8' }).stdout.trim();

function crontabList(): { text: string; none: boolean } {
  const result = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  if (result.status === 0) return { text: result.stdout, none: false };
  if (/no crontab/.test(result.stderr)) return { text: '', none: true };
  throw new Error(`crontab -l: ${result.stderr}`);
}

function crontabSet(text: string | undefined): void {
  const result =
    text === undefined
      ? spawnSync('crontab', ['-r'], { encoding: 'utf8' })
      : spawnSync('crontab', ['-'], { input: text, encoding: 'utf8' });
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
  const lateMarker = path.join(temp, 'late-marker.txt');
  const others = '# someone else\'s entries\nMAILTO=""\n15 3 * * 1  /usr/local/bin/backup --full   \n\n';
  const node = process.execPath;
  const trigBin = realpathSync(TRIG);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // The PATH trig is installed with, which the entry sets for the runs: a date(1) stand-in
  // first (the real date unless TRIG_TEST_DATE is set), and where crontab lives.
  const stubs = path.join(temp, 'stubs');
  const installEnv = { PATH: [stubs, path.dirname(crontabProgram || '/usr/bin/crontab'), '/usr/bin', '/bin'].join(':'), SHELL: '/bin/sh' };
  const cron = (args: string[], cwd = repo) => trig(['cron', ...args], { cwd, env: installEnv });
  const expectedBlock = [
    `# BEGIN trig ${repo}`,
    '# Written by `trig cron install`; `trig cron uninstall` removes this block.',
    '# Every minute trig fires the schedule triggers that are due, each read in its own time zone.',
    `* * * * * export PATH=${shQuote(installEnv.PATH)} SHELL=/bin/sh && cd ${q(repo)} && ${node} ${trigBin} fire --event schedule --at "$(date -u +\\%Y-\\%m-\\%dT\\%H:\\%M:00Z)" --cron --quiet`,
    `# END trig ${repo}`,
    '',
  ].join('\n');

  beforeAll(() => {
    saved = crontabList();
    mkdirSync(stubs);
    writeFileSync(
      path.join(stubs, 'date'),
      `#!/bin/sh\n[ -n "$TRIG_TEST_DATE" ] || exec ${q(realDate)} "$@"\n[ "$*" = "-u +%Y-%m-%dT%H:%M:00Z" ] || exit 64\necho "$TRIG_TEST_DATE"\n`,
      { mode: 0o755 },
    );
    mkdirSync(path.join(repo, '.harness'), { recursive: true });
    writeFileSync(
      path.join(repo, '.harness', 'tick.yaml'),
      markingDefinition(
        'ticker',
        [
          '    - schedule:',
          '        cron: "* * * * *"',
          '        name: every-minute',
          '    - schedule:',
          '        cron: "0 0 1 1 *"',
          '        timezone: Pacific/Kiritimati',
        ],
        `<+trigger.event> <+trigger.scheduleName> <+trigger.cron> $(pwd)`,
        marker,
      ),
    );
    // Due one minute in four years: fired only when the entry's shell says it is that minute.
    writeFileSync(
      path.join(repo, '.harness', 'leap.yaml'),
      markingDefinition(
        'leap',
        ['    - schedule:', '        cron: "0 0 29 2 *"', '        timezone: Pacific/Kiritimati'],
        '<+trigger.event> <+trigger.scheduleName>',
        leapMarker,
      ),
    );
    // Due at 10:00 UTC on 28 February, and caught up within an hour when that tick is missed.
    writeFileSync(
      path.join(repo, '.harness', 'late.yaml'),
      markingDefinition(
        'late',
        ['    - schedule:', '        cron: "0 10 28 2 *"', '        catch-up: 1h'],
        '<+trigger.caughtUp> <+trigger.scheduledAt>',
        lateMarker,
      ),
    );
    crontabSet(others);
  });

  afterAll(() => {
    crontabSet(saved.none ? undefined : saved.text);
    rmSync(temp, { recursive: true, force: true });
  });

  it('prints the block without touching the crontab', () => {
    const result = cron(['print']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(expectedBlock);
    expect(result.stderr).toContain('"* * * * *" (UTC) as "every-minute"');
    expect(result.stderr).toContain('"0 0 1 1 *" (Pacific/Kiritimati) as "ticker"');
    expect(result.stderr).toContain('"0 10 28 2 *" (UTC) as "late", missed times caught up within 1h');
    expect(crontabList().text).toBe(others);
  });

  it('shows the resulting crontab with --dry-run', () => {
    const result = cron(['install', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(others + expectedBlock);
    expect(crontabList().text).toBe(others);
  });

  it('installs the block once, keeping the other entries byte for byte', () => {
    expect(cron(['install']).code).toBe(0);
    expect(crontabList().text).toBe(others + expectedBlock);
    const again = cron(['install']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing changed');
    expect(crontabList().text).toBe(others + expectedBlock);
  });

  /**
   * Runs the installed entry's command as cron does: cron hands the command after the five
   * fields to sh, with `\%` turned into `%`, in a bare environment, from the user's home
   * directory (a temporary one here: trig keeps its check cache under it). The entry sets
   * PATH and SHELL itself.
   */
  function runEntry(extra: string[] = [], home = mkdtempSync(path.join(os.tmpdir(), 'trig-cron-home-'))): string {
    const line = crontabList()
      .text.split('\n')
      .find((l) => l.startsWith('* * * * * '))!;
    const command = line.replace(/^(\S+\s+){5}/, '').replace(/\\%/g, '%');
    const env = ['-i', `HOME=${home}`, 'SHELL=/bin/sh', 'PATH=/usr/bin:/bin', ...extra];
    const result = spawnSync('env', [...env, 'sh', '-c', command], { cwd: home, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr + result.stdout).toBe(0);
    return home;
  }

  /** The events the store under `home` (the state folder's default place) recorded. */
  async function storedEvents(home: string) {
    const store = openSqliteStore(path.join(home, '.local', 'state', 'trig'));
    try {
      return await store.listEvents({});
    } finally {
      store.close();
    }
  }

  it("runs the entry's command the way cron does and fires the due schedule, with the cron source", async () => {
    const home = runEntry();
    expect(existsSync(marker), 'the script step did not run').toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe(`schedule every-minute * * * * * ${repo}\n`);
    expect(existsSync(leapMarker), 'a schedule that is not due ran').toBe(false);
    const events = await storedEvents(home);
    expect(events.map((e) => [e.name, e.source, e.runs.length])).toEqual([['schedule', 'cron', 1]]);
    expect(events[0]!.deliveryKey).toMatch(new RegExp(`^schedule \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:00Z ${path.join(repo, '.harness')}$`));
  });

  it('catches up through the entry: a tick after missed minutes fires the missed slot once, late', async () => {
    rmSync(marker, { force: true });
    const home = runEntry(['TRIG_TEST_DATE=2027-02-28T09:58:00Z']);
    expect(existsSync(lateMarker)).toBe(false);
    // Asleep from 09:59 to 10:19: the 10:00 slot is caught up at 10:20, and only once.
    runEntry(['TRIG_TEST_DATE=2027-02-28T10:20:00Z'], home);
    runEntry(['TRIG_TEST_DATE=2027-02-28T10:20:00Z'], home);
    expect(readFileSync(lateMarker, 'utf8')).toBe('true 2027-02-28T10:00:00Z\n');
    const events = await storedEvents(home);
    expect(events.filter((e) => e.details.missed).map((e) => [e.source, e.details.missed])).toEqual([
      ['cron', { from: '2027-02-28T09:59:00Z', to: '2027-02-28T10:19:00Z' }],
    ]);
  });

  it('fires the minute the shell read when cron started the entry', () => {
    // The date(1) stand-in answers what the real one would at 00:00 on 29 February 2028 in
    // Kiritimati (UTC+14): the leap-day schedule is due then, and only then.
    runEntry(['TRIG_TEST_DATE=2028-02-28T10:00:00Z']);
    expect(readFileSync(leapMarker, 'utf8')).toBe('schedule leap\n');
  });

  it('refuses to install when no definition has a schedule', () => {
    const empty = path.join(temp, 'empty');
    mkdirSync(path.join(empty, '.harness'), { recursive: true });
    writeFileSync(path.join(empty, '.harness', 'p.yaml'), 'version: 1\npipeline:\n  name: p\n  on: push\n  stages: []\n');
    const result = cron(['install'], empty);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no valid schedule trigger/);
    expect(crontabList().text).toBe(others + expectedBlock);
  });

  it('uninstall removes exactly the block', () => {
    const dry = cron(['uninstall', '--dry-run']);
    expect(dry.stdout).toBe(others);
    expect(crontabList().text).toBe(others + expectedBlock);
    expect(cron(['uninstall']).code).toBe(0);
    expect(crontabList().text).toBe(others);
    expect(cron(['uninstall']).stderr).toContain('nothing changed');
  });

  it('leaves no crontab when the block was all there was', () => {
    crontabSet(undefined);
    expect(cron(['install']).code).toBe(0);
    expect(crontabList().text).toBe(expectedBlock);
    expect(cron(['uninstall']).code).toBe(0);
    expect(crontabList()).toEqual({ text: '', none: true });
  });
});

// What the entry needs from the environment it is installed from; no crontab program
// needed: the line `trig cron print` shows is the one `install` writes.
describe("the cron entry under cron's bare environment", () => {
  const temp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'trig-cron-env-')));
  const repo = path.join(temp, 'repo');
  // A program only the installing user's PATH finds, in a folder whose name has a % (which
  // cron would turn into a line break if it were not escaped) and a space.
  const tools = path.join(temp, 'tools 100%');
  const marker = path.join(temp, 'marker.txt');

  beforeAll(() => {
    mkdirSync(path.join(repo, '.harness'), { recursive: true });
    mkdirSync(tools);
    writeFileSync(path.join(tools, 'greet'), '#!/bin/sh\necho "hello from greet"\n', { mode: 0o755 });
    writeFileSync(
      path.join(repo, '.harness', 'tick.yaml'),
      markingDefinition('ticker', ['    - schedule:', '        cron: "* * * * *"'], '$(greet) $SHELL', marker),
    );
  });
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('sets the PATH and SHELL it was installed with (absolute folders only, % escaped), and a step finds its programs under env -i', () => {
    const result = trig(['cron', 'print'], { cwd: repo, env: { PATH: `${tools}:relative/bin::/usr/bin:/bin`, SHELL: '/bin/sh' } });
    expect(result.code, result.stderr).toBe(0);
    const line = result.stdout.split('\n').find((l) => l.startsWith('* * * * * '))!;
    const escapedTools = `'${tools.replace(/%/g, '\\%')}:/usr/bin:/bin'`;
    expect(line).toBe(
      `* * * * * export PATH=${escapedTools} SHELL=/bin/sh && cd ${repo} && ${process.execPath} ${realpathSync(TRIG)} fire --event schedule --at "$(date -u +\\%Y-\\%m-\\%dT\\%H:\\%M:00Z)" --cron --quiet`,
    );
    // As cron runs it: `\%` becomes `%`, and the command goes to sh in an environment with
    // nothing of the installing user's (here not even cron's own PATH).
    const command = line.replace(/^(\S+\s+){5}/, '').replace(/\\%/g, '%');
    const home = mkdtempSync(path.join(temp, 'home-'));
    const run = spawnSync('env', ['-i', `HOME=${home}`, '/bin/sh', '-c', command], { cwd: home, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('hello from greet /bin/sh\n');
  });

  it('refuses a PATH with a line break, in one line, before writing anything', () => {
    const result = trig(['cron', 'print'], { cwd: repo, env: { PATH: '/usr/bin:/bin\n* * * * * rm -rf ~', SHELL: '/bin/sh' } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'trig: PATH contains a line break, which a crontab line cannot hold; set PATH without it and install again\n',
    );
  });
});
