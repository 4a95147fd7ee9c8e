import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadText } from '../../src/load/load.js';
import { CrontabBlockError, findBlocks, mergeBlock, removeBlock, renderBlock } from '../../src/integrations/cron/block.js';
import { readCrontab, writeCrontab } from '../../src/integrations/cron/crontab.js';
import { CronEnvironmentError, cronBlock, cronLine, cronPath, fireCommand, scheduleTriggers } from '../../src/integrations/cron/entries.js';
import { cronCommand, shQuote } from '../../src/shared/shell.js';

function sh(command: string): string {
  const result = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  return result.stdout;
}

describe('shell quoting', () => {
  it('keeps every word intact through sh', () => {
    for (const word of ['plain', 'with space', "it's", 'a"b', '$HOME', '`id`', 'back\\slash', '*', '~', 'a=b', '']) {
      expect(sh(`printf '%s' ${shQuote(word)}`)).toBe(word);
    }
  });

  it('escapes % for cron and refuses line breaks', () => {
    expect(cronCommand("date +'%H:%M'")).toBe("date +'\\%H:\\%M'");
    expect(() => cronCommand('a\nb')).toThrow(/line break/);
  });
});

describe('crontab blocks', () => {
  const dir = '/srv/my repo';
  const block = renderBlock(dir, ['* * * * * true']);
  const others = '# mine\nMAILTO=me@example.com\n0 1 * * * backup   --all  \n\n';

  it('renders the markers around the lines', () => {
    expect(block).toBe('# BEGIN trig /srv/my repo\n* * * * * true\n# END trig /srv/my repo\n');
  });

  it('appends, replaces in place and removes without touching other lines', () => {
    const installed = mergeBlock(others, dir, block);
    expect(installed).toBe(others + block);
    expect(mergeBlock(installed, dir, block)).toBe(installed);
    const tail = '30 2 * * * later\n';
    const updated = mergeBlock(installed + tail, dir, renderBlock(dir, ['*/5 * * * * other']));
    expect(updated).toBe(`${others}# BEGIN trig /srv/my repo\n*/5 * * * * other\n# END trig /srv/my repo\n${tail}`);
    expect(removeBlock(updated, dir)).toBe(others + tail);
    expect(removeBlock(others, dir)).toBe(others);
  });

  it('keeps the blocks of other directories', () => {
    const second = renderBlock('/srv/my repo2', ['* * * * * two']);
    const both = mergeBlock(mergeBlock(others, dir, block), '/srv/my repo2', second);
    expect(removeBlock(both, dir)).toBe(others + second);
    expect(findBlocks(both, '/srv/my')).toEqual([]);
  });

  it('adds the newline crontab needs after a last line without one', () => {
    expect(mergeBlock('0 1 * * * x', dir, block)).toBe(`0 1 * * * x\n${block}`);
    expect(mergeBlock('', dir, block)).toBe(block);
  });

  it('merges duplicated blocks into one', () => {
    const doubled = `${block}x\n${block}`;
    expect(mergeBlock(doubled, dir, block)).toBe(`${block}x\n`);
  });

  it('refuses a block that is opened and never closed', () => {
    expect(() => removeBlock(`# BEGIN trig ${dir}\n* * * * * true\n`, dir)).toThrow(CrontabBlockError);
    expect(() => renderBlock('/a\nb', [])).toThrow(CrontabBlockError);
  });
});

describe('cron entries', () => {
  const options = { dir: "/srv/o'brien 100%", node: '/opt/node 20/bin/node', trig: '/opt/trig/bin/trig' };

  it('changes to the directory and runs trig by absolute paths', () => {
    const command = fireCommand(options);
    expect(command).toBe(
      "cd '/srv/o'\\''brien 100%' && '/opt/node 20/bin/node' /opt/trig/bin/trig fire --event schedule --at \"$(date -u +%Y-%m-%dT%H:%M:00Z)\" --cron --quiet",
    );
    expect(cronLine(options)).toBe(`* * * * * ${command.replace(/%/g, '\\%')}`);
    expect(fireCommand({ ...options, defs: ['ci/a b.yaml', 'more/'] })).toMatch(/ --defs 'ci\/a b\.yaml' more\/$/);
    expect(() => fireCommand({ ...options, trig: 'bin/trig' })).toThrow(/absolute/);
  });

  it('exports the installing PATH and SHELL first, quoted for sh, with % escaped for cron', () => {
    const command = fireCommand({ ...options, path: "/opt/it's 100%/bin:.::bin:/usr/bin", shell: '/bin/bash' });
    expect(command.startsWith("export PATH='/opt/it'\\''s 100%/bin:/usr/bin' SHELL=/bin/bash && cd ")).toBe(true);
    expect(cronLine({ ...options, path: '/a%b:/bin' })).toMatch(/^\* \* \* \* \* export PATH='\/a\\%b:\/bin' && cd /);
    expect(
      sh(
        `${fireCommand({ ...options, path: "/opt/it's 100%/bin:/usr/bin", shell: '/bin/bash' }).split(' && cd ')[0]} && printf '%s|%s' "$PATH" "$SHELL"`,
      ),
    ).toBe("/opt/it's 100%/bin:/usr/bin|/bin/bash");
  });

  it('keeps only the absolute folders of PATH, and refuses line breaks', () => {
    expect(cronPath('/usr/local/bin:.:node_modules/.bin::/usr/bin')).toBe('/usr/local/bin:/usr/bin');
    expect(cronPath('.:bin')).toBeUndefined();
    expect(cronPath(undefined)).toBeUndefined();
    expect(() => cronPath('/bin\n* * * * * evil')).toThrow(CronEnvironmentError);
    expect(() => fireCommand({ ...options, shell: '/bin/sh\r' })).toThrow(/SHELL contains a line break/);
    expect(fireCommand({ ...options, shell: 'bash' })).toMatch(/^cd /);
  });

  it('puts the line in the marked block', () => {
    const block = cronBlock(options);
    expect(block.split('\n')[0]).toBe(`# BEGIN trig ${options.dir}`);
    expect(block).toContain(`\n${cronLine(options)}\n# END trig ${options.dir}\n`);
  });

  it('lists each schedule with the name the run will see', () => {
    const result = loadText(
      'a.yaml',
      [
        'version: 1',
        'pipeline:',
        '  name: nightly',
        '  on:',
        '    - schedule:',
        '        cron: "0 2 * * *"',
        '        timezone: Europe/Paris',
        '    - schedule:',
        '        cron: ["*/5 * * * *", "0 0 * * *"]',
        '        name: five',
        '    - schedule:',
        '        cron: "61 * * * *"',
        '    - schedule:',
        '        cron: "0 0 * * *"',
        '        timezone: Mars/Olympus',
        '    - push',
      ].join('\n'),
    );
    const schedules = scheduleTriggers(result.documents);
    expect(schedules.map((s) => [s.cron, s.timezone, s.scheduleName, Boolean(s.problem)])).toEqual([
      ['0 2 * * *', 'Europe/Paris', 'nightly', false],
      ['*/5 * * * *', undefined, 'five', false],
      ['0 0 * * *', undefined, 'five', false],
      ['61 * * * *', undefined, 'nightly', true],
      ['0 0 * * *', 'Mars/Olympus', 'nightly', true],
    ]);
  });
});

// The real crontab program, on a user created for this test (crontab -u needs root), so the
// crontab of whoever runs the tests is never touched here (test/e2e/cron.test.ts does that).
const isRoot = process.getuid?.() === 0;
const hasCrontab = spawnSync('sh', ['-c', 'command -v crontab']).status === 0;
const USER = 'trig-crontab-test';

describe.skipIf(!isRoot || !hasCrontab)('the crontab program (as root, with a test user)', () => {
  let created = false;
  beforeAll(() => {
    if (spawnSync('id', [USER]).status !== 0) {
      expect(spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', USER]).status).toBe(0);
      created = true;
    }
    writeCrontab('', { user: USER });
  });
  afterAll(() => {
    writeCrontab('', { user: USER });
    if (created) spawnSync('userdel', [USER]);
  });

  it('reads a missing crontab as empty, writes text exactly, and removes it when emptied', () => {
    expect(readCrontab({ user: USER })).toBe('');
    const text = '# a comment\n0 1 * * *  echo   spaced \n\n';
    writeCrontab(text, { user: USER });
    expect(readCrontab({ user: USER })).toBe(text);
    writeCrontab('', { user: USER });
    expect(readCrontab({ user: USER })).toBe('');
    expect(spawnSync('crontab', ['-u', USER, '-l'], { encoding: 'utf8' }).stderr).toMatch(/no crontab/);
  });

  it('reports what crontab refuses', () => {
    expect(() => writeCrontab('this is not a cron line\n', { user: USER })).toThrow(/crontab refused/);
    expect(() => readCrontab({ program: '/nonexistent/crontab' })).toThrow(/install cron/);
  });
});
