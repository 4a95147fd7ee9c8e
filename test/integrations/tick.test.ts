import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fire, slotKey, type FireDeps, type FireRequest } from '../../src/fire/fire.js';
import { openStore as openStoreOf } from '../../src/fire/record.js';
import { catchUps, missedMinutes } from '../../src/integrations/cron/tick.js';
import { readTickStamp, tickStampFile, writeTickStamp } from '../../src/integrations/cron/tick-stamp.js';
import { loadDefinitions } from '../../src/validate/definitions.js';

// The cron tick's parts in this process: the slot key of the fire core, the missed slots
// each definition catches up, and the tick stamp. test/e2e/schedule-catch-up.test.ts
// drives the whole tick through bin/trig.

const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-tick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function definitions(name: string, yaml: string): string {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'defs.yaml'), yaml);
  return folder;
}

async function checked(folder: string) {
  return (await loadDefinitions([folder], { cache: false, env: {}, notice: () => {} })).checked;
}

/** A definition on the `schedule:` lines given, whose one step does nothing. */
function scheduled(name: string, ...schedule: string[]): string {
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
    '        - run: "true"',
    '',
  ].join('\n');
}

const at = (iso: string) => new Date(iso);

describe('the slot key (FireRequest.keyBySlot)', () => {
  it('opens no store for a slot that matches nothing; keys a matched one by minute and place, once', async () => {
    const defs = definitions('slot', scheduled('nightly', '- cron: "0 3 * * *"'));
    const stateDir = mkdtempSync(path.join(dir, 'state-'));
    let opened = 0;
    const deps: FireDeps = {
      now: () => at('2026-11-23T03:00:00Z'),
      env: { PATH: process.env.PATH },
      cwd: () => dir,
      loadDefinitions: async (paths) => (await loadDefinitions(paths, { cache: false, env: {}, notice: () => {} })).checked,
      runOutput: { write: () => {} },
      openStore: () => {
        opened++;
        return openStoreOf({ TRIG_STATE_DIR: stateDir });
      },
    };
    const slot = (iso: string): FireRequest => ({
      event: 'schedule',
      payload: {},
      definitions: [defs],
      at: at(iso),
      source: 'cron',
      keyBySlot: true,
      options: { workdir: dir },
    });

    const none = await fire(slot('2026-11-23T03:01:00Z'), deps);
    expect(opened).toBe(0);
    expect(none.eventId).toBeUndefined();
    expect(existsSync(path.join(stateDir, 'trig.db'))).toBe(false);

    // Seconds do not make another slot: the key is the minute's.
    const first = await fire(slot('2026-11-23T03:00:00Z'), deps);
    const again = await fire(slot('2026-11-23T03:00:42Z'), deps);
    expect(opened).toBe(2);
    expect(first.definitions[0]!.run!.status).toBe('succeeded');
    expect(first.duplicate).toBeUndefined();
    const key = `schedule 2026-11-23T03:00:00Z ${defs}`;
    expect(slotKey([defs], at('2026-11-23T03:00:42Z'))).toBe(key);
    expect(again.duplicate).toEqual({ deliveryKey: key });
    expect(again.eventId).toBe(first.eventId);
    expect(again.definitions).toEqual([]);

    const store = await openStoreOf({ TRIG_STATE_DIR: stateDir });
    try {
      expect((await store.listEvents({})).map((e) => [e.name, e.source, e.deliveryKey, e.runs.length])).toEqual([
        ['schedule', 'cron', key, 1],
      ]);
    } finally {
      store.close();
    }
  });
});

describe('missedMinutes', () => {
  it('finds none between consecutive ticks, or without a previous tick, or when the clock went back', () => {
    expect(missedMinutes(undefined, at('2026-11-23T05:00:00Z'))).toBeUndefined();
    expect(missedMinutes(at('2026-11-23T04:59:00Z'), at('2026-11-23T05:00:00Z'))).toBeUndefined();
    expect(missedMinutes(at('2026-11-23T05:00:00Z'), at('2026-11-23T05:00:00Z'))).toBeUndefined();
    expect(missedMinutes(at('2026-11-23T06:00:00Z'), at('2026-11-23T05:00:00Z'))).toBeUndefined();
  });

  it('gives the minutes no tick saw, both ends included', () => {
    expect(missedMinutes(at('2026-11-23T04:58:00Z'), at('2026-11-23T05:00:00Z'))).toEqual({
      from: at('2026-11-23T04:59:00Z'),
      to: at('2026-11-23T04:59:00Z'),
    });
    expect(missedMinutes(at('2026-11-23T02:00:00Z'), at('2026-11-23T05:00:00Z'))).toEqual({
      from: at('2026-11-23T02:01:00Z'),
      to: at('2026-11-23T04:59:00Z'),
    });
  });
});

describe('catchUps', () => {
  const gap = { from: at('2026-11-23T02:01:00Z'), to: at('2026-11-23T04:59:00Z') };
  const now = at('2026-11-23T05:00:00Z');
  const slots = async (yaml: string, window = gap) =>
    catchUps((await checked(definitions(`c-${Math.random().toString(36).slice(2)}`, yaml))).definitions, window, now).map((c) => [
      c.slot.toISOString(),
      c.definitions.map((d) => d.name),
    ]);

  it('gives each catching-up definition its latest missed slot, grouped by slot, oldest first', async () => {
    const yaml = [
      scheduled('quarterly', '- cron: "*/15 * * * *"', '  catch-up: 6h'),
      scheduled('nightly', '- cron: "0 3 * * *"', '  catch-up: 6h'),
      scheduled('also-three', '- cron: "0 3 * * *"', '  catch-up: 2h30m'),
      // Two items: the later missed slot of either.
      scheduled('two-items', '- cron: "0 3 * * *"', '  catch-up: 6h', '- cron: "30 4 * * *"', '  catch-up: 1h'),
    ].join('---\n');
    expect(await slots(yaml)).toEqual([
      ['2026-11-23T03:00:00.000Z', ['nightly', 'also-three']],
      ['2026-11-23T04:30:00.000Z', ['two-items']],
      ['2026-11-23T04:45:00.000Z', ['quarterly']],
    ]);
  });

  it('skips a definition without catch-up, one whose slot is further back than its catch-up, and one with errors', async () => {
    const yaml = [
      scheduled('plain', '- cron: "0 3 * * *"'),
      scheduled('short', '- cron: "0 3 * * *"', '  catch-up: 1h'),
      scheduled('broken', '- cron: "0 3 * * *"', '  catch-up: 6 hours'),
      // Only the item without catch-up was due in the gap.
      scheduled('other-item', '- cron: "0 3 * * *"', '- cron: "0 1 * * *"', '  catch-up: 6h'),
    ].join('---\n');
    expect(await slots(yaml)).toEqual([]);
  });

  it('finds no slot the gap does not hold, however long the catch-up', async () => {
    const yaml = scheduled('later', '- cron: "0 6 * * *"', '  catch-up: 2d');
    expect(await slots(yaml)).toEqual([]);
    expect(await slots(yaml, { from: at('2026-11-22T05:01:00Z'), to: gap.to })).toEqual([['2026-11-22T06:00:00.000Z', ['later']]]);
  });
});

describe('the tick stamp', () => {
  const places = ['/srv/repo/.harness'];

  it('is a private file per place, read back only for its own place', () => {
    const state = mkdtempSync(path.join(dir, 'stamp-'));
    expect(readTickStamp(state, places)).toBeUndefined();
    expect(writeTickStamp(state, places, at('2026-11-23T05:00:00Z'))).toBe(true);
    expect(lstatSync(tickStampFile(state, places)).mode & 0o777).toBe(0o600);
    expect(readTickStamp(state, places)).toEqual(at('2026-11-23T05:00:00Z'));
    expect(readTickStamp(state, ['/srv/other/.harness'])).toBeUndefined();
    expect(tickStampFile(state, ['/srv/other/.harness'])).not.toBe(tickStampFile(state, places));
    // A file of the same name that says it is another place's is not this place's stamp.
    writeFileSync(tickStampFile(state, places), JSON.stringify({ places: ['/elsewhere'], at: '2026-11-23T05:00:00.000Z' }));
    expect(readTickStamp(state, places)).toBeUndefined();
    writeFileSync(tickStampFile(state, places), 'not json');
    expect(readTickStamp(state, places)).toBeUndefined();
  });

  it('ignores a stamp others can write, and replaces a planted link instead of writing through it', () => {
    const state = mkdtempSync(path.join(dir, 'stamp-'));
    const file = tickStampFile(state, places);
    writeTickStamp(state, places, at('2026-11-23T05:00:00Z'));
    chmodSync(file, 0o666);
    expect(readTickStamp(state, places)).toBeUndefined();
    rmSync(file);
    const target = path.join(dir, 'target.txt');
    writeFileSync(target, 'untouched');
    symlinkSync(target, file);
    expect(readTickStamp(state, places)).toBeUndefined();
    expect(writeTickStamp(state, places, at('2026-11-23T05:01:00Z'))).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    expect(lstatSync(file).isFile()).toBe(true);
    expect(readTickStamp(state, places)).toEqual(at('2026-11-23T05:01:00Z'));
  });
});
