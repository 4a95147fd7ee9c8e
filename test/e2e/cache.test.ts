import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trig } from '../helpers/trig.js';

// The check cache must never change what trig says: only how fast it says it.

const freshCache = () => mkdtempSync(path.join(tmpdir(), 'trig-cache-'));
const cacheFiles = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

describe('the check cache', () => {
  it.each([
    [['validate', 'fixtures/invalid']],
    [['validate', '--format', 'json', 'fixtures/invalid', 'fixtures/seed']],
    [['fire', '--dry-run', '--json', '--explain', '--defs', 'fixtures/fire', 'fixtures/invalid', '--event', 'cost_spike', '--payload', 'fixtures/payloads/cost_spike.json', '--at', '2026-11-23T09:00:00Z']],
  ])('gives the same output cold, warm and with --no-cache: %j', (args) => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    const cold = trig(args, { env });
    expect(cacheFiles(env.TRIG_CACHE_DIR)).toBeGreaterThan(0);
    const warm = trig(args, { env });
    const uncached = trig([...args, '--no-cache'], { env });
    expect(warm).toEqual(cold);
    expect(uncached).toEqual(cold);
  });

  it('checks a changed file afresh', () => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-defs-'));
    const file = path.join(dir, 'def.yaml');
    writeFileSync(file, 'pipeline:\n  on: pipline_failed\n');
    expect(trig(['validate', file], { env }).code).toBe(1);
    writeFileSync(file, 'pipeline:\n  on: pipeline_failed\n');
    expect(trig(['validate', file], { env })).toEqual({ code: 0, stdout: '1 definition in 1 file: no problems\n', stderr: '' });
  });

  it('keeps the results of a whole list of files together, and notices when one of them changes', () => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-defs-'));
    const hourAgo = new Date(Date.now() - 3_600_000);
    const write = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      // Files modified in the last seconds are not kept together (they could change again unseen).
      utimesSync(path.join(dir, name), hourAgo, hourAgo);
    };
    write('a.yaml', 'pipeline:\n  on: push\n');
    write('b.yaml', 'pipeline:\n  on: pull_request\n');
    const first = trig(['validate', dir], { env });
    expect(first).toEqual({ code: 0, stdout: '2 definitions in 2 files: no problems\n', stderr: '' });
    const sets = () => readdirSync(path.join(env.TRIG_CACHE_DIR, readdirSync(env.TRIG_CACHE_DIR)[0]!, 'sets'));
    expect(sets()).toHaveLength(1);
    expect(trig(['validate', dir], { env })).toEqual(first);
    write('b.yaml', 'pipeline:\n  on: pull_requests\n');
    const changed = trig(['validate', dir], { env });
    expect([changed.code, changed.stdout.split('\n')[0]]).toEqual([1, `${dir}/b.yaml:2:7: unknown event "pull_requests"; did you mean "pull_request"? [unknown-event]`]);
    // One entry per list of files, rewritten with the new state of its files.
    expect(sets()).toHaveLength(1);
    expect(trig(['validate', dir], { env })).toEqual(changed);
    expect(trig(['validate', path.join(dir, 'a.yaml')], { env }).code).toBe(0);
    expect(sets()).toHaveLength(2);
  });

  it('keeps nothing with --no-cache, ignores damaged entries, and works when the cache cannot be written', () => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    trig(['validate', '--no-cache', 'fixtures/seed'], { env });
    expect(cacheFiles(env.TRIG_CACHE_DIR)).toBe(0);

    const expected = trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env });
    for (const entry of readdirSync(env.TRIG_CACHE_DIR, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) writeFileSync(path.join(entry.parentPath, entry.name), '{"documents": "not what trig wrote"');
    }
    expect(trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env })).toEqual(expected);

    const unwritable = { TRIG_CACHE_DIR: '/dev/null/trig-cache' };
    expect(trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env: unwritable })).toEqual(expected);
  });
});
