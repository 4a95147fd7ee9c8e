import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPEC_SAMPLES, trig } from '../helpers/trig.js';

// The check cache must never change what trig says: only how fast it says it.

const freshCache = () => mkdtempSync(path.join(tmpdir(), 'trig-cache-'));
const cacheFiles = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

describe('the check cache', () => {
  it.each([
    [['validate', 'fixtures/invalid']],
    [['validate', '--format', 'json', 'fixtures/invalid', 'fixtures/seed']],
    [['validate', SPEC_SAMPLES]],
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
