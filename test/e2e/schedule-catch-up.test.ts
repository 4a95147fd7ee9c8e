// The cron entry's tick (`trig fire --event schedule --cron --at …`, what the installed
// entry runs every minute) through the built bin/trig, with `--at` jumping over missed
// minutes: catch-up, the gap recorded in the store, and each slot run once however many
// ticks race for it. Each test has its own state folder and definitions.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTickStamp } from '../../src/integrations/cron/tick-stamp.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { StoredEvent } from '../../src/store/store.js';
import { CACHE_DIR, TRIG, trig } from '../helpers/trig.js';

const temp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'trig-catch-up-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A definition on the `schedule:` item lines given, whose step appends what the run sees to `marker`. */
function marking(name: string, schedule: string[], marker: string): string {
  return [
    'version: 1',
    'pipeline:',
    `  name: ${name}`,
    '  on:',
    '    schedule:',
    ...schedule.map((l) => `      ${l}`),
    '  stages:',
    '    - name: s',
    '      steps:',
    '        - name: mark',
    '          run:',
    '            shell: sh',
    '            script: |',
    `              echo "${name} <+trigger.caughtUp> <+trigger.scheduledAt> $(cat "$TRIG_PAYLOAD")" >> '${marker}'`,
    '',
  ].join('\n');
}

interface Place {
  repo: string;
  state: string;
  marker: string;
  tick(at: string, extra?: string[]): ReturnType<typeof trig>;
  marks(): string[];
  events(): Promise<StoredEvent[]>;
}

let places = 0;
function place(definitions: (marker: string) => string): Place {
  const root = path.join(temp, `place-${++places}`);
  const repo = path.join(root, 'repo');
  const state = path.join(root, 'state');
  const marker = path.join(root, 'marker.txt');
  mkdirSync(path.join(repo, '.harness'), { recursive: true });
  writeFileSync(path.join(repo, '.harness', 'defs.yaml'), definitions(marker));
  return {
    repo,
    state,
    marker,
    tick: (at, extra = []) =>
      trig(['fire', '--event', 'schedule', '--at', at, '--cron', '--quiet', ...extra], { cwd: repo, env: { TRIG_STATE_DIR: state } }),
    marks: () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []),
    events: async () => {
      const store = openSqliteStore(state);
      try {
        return await store.listEvents({});
      } finally {
        store.close();
      }
    },
  };
}

const NIGHTLY = ['- cron: "0 3 * * *"', '  catch-up: 6h'];

describe('trig fire --cron: missed schedules', () => {
  it('catches up the latest missed slot once, telling the run it is late and when it was due', async () => {
    const p = place((marker) => marking('nightly', NIGHTLY, marker));
    const before = p.tick('2026-11-23T02:00:00Z');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout + before.stderr).toBe('');
    // Nothing matched: the tick stamp is all the state folder holds, the store was not opened.
    expect(readdirSync(p.state)).toEqual([expect.stringMatching(/^tick-[0-9a-f]{16}\.json$/)]);

    // The machine slept from 02:01 to 04:59: 03:00 was missed, and is within 6h.
    const woke = p.tick('2026-11-23T05:00:00Z');
    expect(woke.code, woke.stderr).toBe(0);
    expect(p.marks()).toEqual(['nightly true 2026-11-23T03:00:00Z {"caughtUp":true,"scheduledAt":"2026-11-23T03:00:00Z"}']);

    // Another tick of the same minute runs nothing; nor does a tick of the slot itself (a
    // cron daemon running late): the slot already ran, as a catch-up.
    expect(p.tick('2026-11-23T05:00:00Z').code).toBe(0);
    const late = p.tick('2026-11-23T03:00:00Z', []);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toBe('');
    expect(p.marks()).toHaveLength(1);
    // A second cron daemon that read the stamp before the first one moved it finds the same
    // gap and catches the same slot up: a duplicate, which runs nothing.
    writeTickStamp(p.state, [path.join(p.repo, '.harness')], new Date('2026-11-23T02:00:00Z'));
    const second = p.tick('2026-11-23T05:00:00Z');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('');
    expect(p.marks()).toHaveLength(1);

    const events = await p.events();
    const caughtUp = events.find((e) => e.details.caughtUp === true)!;
    expect(caughtUp).toMatchObject({
      name: 'schedule',
      source: 'cron',
      deliveryKey: `schedule 2026-11-23T03:00:00Z ${path.join(p.repo, '.harness')}`,
      payload: { caughtUp: true, scheduledAt: '2026-11-23T03:00:00Z' },
      details: { caughtUp: true, scheduledAt: '2026-11-23T03:00:00Z' },
      places: [path.join(p.repo, '.harness')],
    });
    expect(caughtUp.at.toISOString()).toBe('2026-11-23T03:00:00.000Z');
    expect(caughtUp.runs).toHaveLength(1);
    const gap = events.find((e) => e.details.missed)!;
    expect(gap).toMatchObject({ name: 'schedule', source: 'cron', runs: [], dispatched: true });
    expect(gap.details).toEqual({
      missed: { from: '2026-11-23T02:01:00Z', to: '2026-11-23T04:59:00Z' },
      caughtUp: [{ file: path.join(p.repo, '.harness', 'defs.yaml'), definition: 'nightly', scheduledAt: '2026-11-23T03:00:00Z' }],
    });
    expect(events).toHaveLength(2);
  });

  it('runs only the latest missed slot of a frequent schedule, and a due schedule on time beside it', () => {
    const p = place((marker) =>
      [
        marking('quarterly', ['- cron: "*/15 * * * *"', '  catch-up: 6h'], marker),
        marking('on-time', ['- cron: "0 5 * * *"'], marker),
      ].join('---\n'),
    );
    expect(p.tick('2026-11-23T02:00:00Z').code).toBe(0);
    expect(p.marks()).toEqual(['quarterly false 2026-11-23T02:00:00Z {}']);
    const woke = p.tick('2026-11-23T05:00:00Z');
    expect(woke.code, woke.stderr).toBe(0);
    expect(p.marks().sort()).toEqual([
      'on-time false 2026-11-23T05:00:00Z {}',
      'quarterly false 2026-11-23T02:00:00Z {}',
      'quarterly false 2026-11-23T05:00:00Z {}',
      'quarterly true 2026-11-23T04:45:00Z {"caughtUp":true,"scheduledAt":"2026-11-23T04:45:00Z"}',
    ]);
  });

  it('skips missed slots without catch-up, or further back than it, and records the gap', async () => {
    const p = place((marker) =>
      [marking('plain', ['- cron: "0 3 * * *"'], marker), marking('short', ['- cron: "0 3 * * *"', '  catch-up: 1h'], marker)].join(
        '---\n',
      ),
    );
    expect(p.tick('2026-11-23T02:00:00Z').code).toBe(0);
    const woke = p.tick('2026-11-23T05:00:00Z');
    expect(woke.code, woke.stderr).toBe(0);
    expect(woke.stdout + woke.stderr).toBe('');
    expect(p.marks()).toEqual([]);
    expect((await p.events()).map((e) => [e.name, e.source, e.details, e.runs])).toEqual([
      ['schedule', 'cron', { missed: { from: '2026-11-23T02:01:00Z', to: '2026-11-23T04:59:00Z' }, caughtUp: [] }, []],
    ]);
    // Consecutive ticks miss nothing: no other gap is recorded.
    expect(p.tick('2026-11-23T05:01:00Z').code).toBe(0);
    expect(await p.events()).toHaveLength(1);
  });

  it('sees no gap on its first tick, nor when a fire without --cron was the last one', async () => {
    const p = place((marker) => marking('nightly', NIGHTLY, marker));
    expect(p.tick('2026-11-23T05:00:00Z').code).toBe(0);
    expect(existsSync(path.join(p.state, 'trig.db'))).toBe(false);
    // A fire by hand is not a tick: it neither reads nor moves the stamp, and has source cli.
    const byHand = trig(['fire', '--event', 'schedule', '--at', '2026-11-23T03:00:00Z', '--quiet'], {
      cwd: p.repo,
      env: { TRIG_STATE_DIR: p.state },
    });
    expect(byHand.code, byHand.stderr).toBe(0);
    expect(p.marks()).toEqual(['nightly false 2026-11-23T03:00:00Z {}']);
    expect(p.tick('2026-11-23T05:01:00Z').code).toBe(0);
    expect((await p.events()).map((e) => [e.source, e.deliveryKey])).toEqual([['cli', null]]);
  });
});

/** `n` ticks of one minute started at once, as several cron daemons would. */
async function race(p: Place, at: string, n: number): Promise<number[]> {
  const codes = Array.from(
    { length: n },
    () =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, [TRIG, 'fire', '--event', 'schedule', '--at', at, '--cron', '--quiet'], {
          cwd: p.repo,
          env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR, TRIG_STATE_DIR: p.state },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('error', reject);
        child.on('close', (code) => resolve(code ?? -1));
      }),
  );
  return Promise.all(codes);
}

describe('trig fire --cron: each slot once', () => {
  it('runs a slot once when 8 ticks of the same minute race', async () => {
    const p = place((marker) => marking('nightly', NIGHTLY, marker));
    expect(await race(p, '2026-11-23T03:00:00Z', 8)).toEqual(Array(8).fill(0));
    expect(p.marks()).toEqual(['nightly false 2026-11-23T03:00:00Z {}']);
    expect((await p.events()).map((e) => [e.source, e.deliveryKey, e.runs.length])).toEqual([
      ['cron', `schedule 2026-11-23T03:00:00Z ${path.join(p.repo, '.harness')}`, 1],
    ]);
  }, 60_000);

  it('catches a slot up once when 8 ticks that find the same gap race', async () => {
    const p = place((marker) => marking('nightly', NIGHTLY, marker));
    expect(p.tick('2026-11-23T02:00:00Z').code).toBe(0);
    expect(await race(p, '2026-11-23T05:00:00Z', 8)).toEqual(Array(8).fill(0));
    expect(p.marks()).toEqual(['nightly true 2026-11-23T03:00:00Z {"caughtUp":true,"scheduledAt":"2026-11-23T03:00:00Z"}']);
    // However many ticks saw the gap, it is recorded once.
    expect((await p.events()).filter((e) => e.details.missed)).toHaveLength(1);
  }, 60_000);
});

describe('trig fire --cron: usage', () => {
  it.each([
    [['--event', 'push', '--cron'], 'trig: --cron fires the schedule event, not "push"\n'],
    [
      ['--event', 'schedule', '--cron', '--json'],
      "trig: --cron cannot be combined with --json: it is the cron entry's tick (see trig cron)\n",
    ],
    [
      ['--event', 'schedule', '--cron', '--dry-run'],
      "trig: --cron cannot be combined with --dry-run: it is the cron entry's tick (see trig cron)\n",
    ],
    [
      ['--event', 'schedule', '--cron', '--delivery-id', 'x'],
      "trig: --cron cannot be combined with --delivery-id: it is the cron entry's tick (see trig cron)\n",
    ],
  ])('refuses %j with exit 2, touching no state', (args, message) => {
    const state = path.join(temp, `usage-${Math.random().toString(36).slice(2)}`);
    const result = trig(['fire', ...args], { cwd: temp, env: { TRIG_STATE_DIR: state } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(message);
    expect(existsSync(state)).toBe(false);
  });

  it('is not in the help: it is for the cron entry', () => {
    const help = trig(['fire', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).not.toContain('--cron');
  });
});
