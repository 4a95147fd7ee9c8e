import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHistoryText } from '../../src/cli/against-history.js';
import { compareWithHistory } from '../../src/fire/history-check.js';
import type { DecisionRecord, StoredEvent } from '../../src/store/store.js';
import { loadDefinitions } from '../../src/validate/definitions.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-history-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function checked(files: Record<string, string>) {
  const folder = mkdtempSync(path.join(dir, 'defs-'));
  for (const [name, yaml] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), yaml);
  }
  return { folder, checked: (await loadDefinitions([folder], { cache: false, env: {}, notice: () => {} })).checked };
}

const pipeline = (name: string, on: string) =>
  `version: 1\npipeline:\n  name: ${name}\n  on:\n${on}\n  stages:\n    - name: s\n      steps:\n        - run: echo\n`;

function event(fields: Partial<StoredEvent> & { decisions: DecisionRecord[] }): StoredEvent {
  return {
    id: 'a1b2c3d4e5f6',
    name: 'push',
    source: 'cli',
    at: new Date('2026-11-23T09:00:00Z'),
    deliveryKey: null,
    places: [],
    payload: { branch: 'main' },
    headers: null,
    replayOf: null,
    details: {},
    dispatched: true,
    runs: [],
    ...fields,
  };
}

describe('comparing recorded events with the definitions as they are now', () => {
  it('decides a schedule event at its own time: a cron moved off the recorded slot disappears', async () => {
    const { folder, checked: now } = await checked({ 'weekly.yaml': pipeline('weekly', `    - schedule:\n        cron: "0 10 * * MON"`) });
    const file = path.join(folder, 'weekly.yaml');
    const recorded = event({
      name: 'schedule',
      payload: {},
      decisions: [{ file, definition: 'weekly', matched: true, reason: 'matched on: schedule' }],
    });
    expect(compareWithHistory([recorded], now, { cwd: dir, strict: false })[0]!.changes).toEqual([
      {
        change: 'disappears',
        file,
        definition: 'weekly',
        then: 'matched on: schedule',
        now: 'schedule: "0 10 * * MON" is not due at 2026-11-23T09:00Z (UTC)',
      },
    ]);
    // At 10:00 the same definitions change nothing.
    const later = event({ ...recorded, at: new Date('2026-11-23T10:00:00Z') });
    expect(compareWithHistory([later], now, { cwd: dir, strict: false })[0]!.changes).toEqual([]);
    // A replay received at 10:00 of the 09:00 slot is decided at the slot.
    const replay = event({ ...later, source: 'replay', details: { decidedAt: '2026-11-23T09:00:00.000Z' } });
    expect(compareWithHistory([replay], now, { cwd: dir, strict: false })[0]!.changes.map((c) => c.change)).toEqual(['disappears']);
  });

  it('names the file of a definition that moved (same name, another file), and says it is gone from the old one', async () => {
    const { folder, checked: now } = await checked({ 'new/deploy.yaml': pipeline('deploy', '    - push') });
    const old = path.join(folder, 'old.yaml');
    const recorded = event({ decisions: [{ file: old, definition: 'deploy', matched: true, reason: 'matched on: push' }] });
    const comparisons = compareWithHistory([recorded], now, { cwd: dir, strict: false });
    expect(comparisons[0]!.changes.map((c) => [c.change, c.file, c.then, c.now])).toEqual([
      ['disappears', old, 'matched on: push', null],
      ['appears', path.join(folder, 'new/deploy.yaml'), null, 'matched on: push'],
    ]);
    const rel = path.relative(dir, folder);
    expect(formatHistoryText(comparisons, 'for x', dir)).toBe(
      [
        'a1b2c3d4e5f6 push from cli at 2026-11-23T09:00:00.000Z',
        `  - ${rel}/old.yaml: deploy (ran then; now: not among the definitions)`,
        `  + ${rel}/new/deploy.yaml: deploy (would now run: matched on: push)`,
        '1 event for x: 1 would change, 0 unchanged',
        '',
      ].join('\n'),
    );
  });

  it('does not compare an event whose fire never decided, or that trig cannot decide on today, and shows hostile names as escapes', async () => {
    const { checked: now } = await checked({ 'a.yaml': pipeline('a', '    - push') });
    const comparisons = compareWithHistory(
      [
        event({ id: '111111111111', dispatched: false, decisions: [] }),
        event({ id: '222222222222', name: 'pussh\u001b[2J', decisions: [] }),
        event({ id: '333333333333', payload: ['not', 'an', 'object'], decisions: [] }),
      ],
      now,
      { cwd: dir, strict: false },
    );
    expect(comparisons.map((c) => c.notCompared)).toEqual([
      'its fire stopped before deciding',
      'trig no longer knows the event "pussh\u001b[2J"',
      'its payload is not a JSON object',
    ]);
    expect(formatHistoryText(comparisons, 'in the store', dir)).toBe(
      [
        '111111111111 push from cli at 2026-11-23T09:00:00.000Z: not compared: its fire stopped before deciding',
        '222222222222 pussh\\u001b[2J from cli at 2026-11-23T09:00:00.000Z: not compared: trig no longer knows the event "pussh\\u001b[2J"',
        '333333333333 push from cli at 2026-11-23T09:00:00.000Z: not compared: its payload is not a JSON object',
        '3 events in the store: 0 would change, 0 unchanged, 3 not compared',
        '',
      ].join('\n'),
    );
    expect(formatHistoryText([], 'for .harness', dir)).toBe('no recorded events for .harness: nothing to compare\n');
  });
});
