import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFire } from '../../src/cli/fire.js';
import { runValidate } from '../../src/cli/validate.js';
import { UsageError } from '../../src/shared/errors.js';
import type { Output } from '../../src/shared/io.js';
import { ROOT } from '../helpers/trig.js';

// The commands write through the Output they are given: their behaviour is visible
// in-process, without building or spawning trig.

const cache = mkdtempSync(path.join(os.tmpdir(), 'trig-cli-commands-'));
const savedCache = process.env.TRIG_CACHE_DIR;
process.env.TRIG_CACHE_DIR = cache;
afterAll(() => {
  if (savedCache === undefined) delete process.env.TRIG_CACHE_DIR;
  else process.env.TRIG_CACHE_DIR = savedCache;
  rmSync(cache, { recursive: true, force: true });
});

function capture() {
  const out = { stdout: '', stderr: '' };
  const io: Output = { stdout: { write: (t) => void (out.stdout += t) }, stderr: { write: (t) => void (out.stderr += t) } };
  return { out, io };
}

const schedules = path.join(ROOT, 'fixtures/fire/schedules.yaml');

describe('commands in-process, with captured output', () => {
  it('trig fire --dry-run --json: the document on the given stdout, exit 0', async () => {
    const { out, io } = capture();
    const code = await runFire(
      {
        event: 'schedule',
        at: '2026-11-23T09:00:00Z',
        defs: [schedules],
        dryRun: true,
        json: true,
        containerRuntime: 'docker',
        concurrency: '4',
        cache: false,
      },
      io,
    );
    expect(code).toBe(0);
    expect(out.stderr).toBe('');
    const json = JSON.parse(out.stdout) as { at: string; definitions: { name: string; matched: boolean; entry?: string }[] };
    expect(json.at).toBe('2026-11-23T09:00:00.000Z');
    expect(json.definitions.map((d) => [d.name, d.matched, d.entry])).toEqual([['weekly-report', true, 'schedule']]);
  });

  it('trig fire --explain: why nothing matched, as text on the given stdout', async () => {
    const { out, io } = capture();
    const code = await runFire(
      {
        event: 'schedule',
        at: '2026-11-23T09:01:00Z',
        defs: [schedules],
        dryRun: true,
        explain: true,
        containerRuntime: 'docker',
        concurrency: '4',
        cache: false,
      },
      io,
    );
    expect(code).toBe(0);
    expect(out.stdout).toBe(
      `${schedules}: weekly-report: not matched: schedule: none of "0 9 * * MON" (UTC), "0 17 * * FRI" (America/New_York) is due at 2026-11-23T09:01Z\n`,
    );
  });

  it('trig fire: a usage error is thrown before anything is written', async () => {
    const { out, io } = capture();
    await expect(
      runFire({ event: 'schedule', at: 'monday', defs: [schedules], containerRuntime: 'docker', concurrency: '4' }, io),
    ).rejects.toThrow(new UsageError('--at "monday": expected an ISO-8601 time such as 2026-11-23T09:00:00Z'));
    expect(out).toEqual({ stdout: '', stderr: '' });
  });

  it('trig validate: the diagnostics on the given stdout, exit 1 for errors', async () => {
    const { out, io } = capture();
    const file = path.join(ROOT, 'fixtures/invalid/cron.yaml');
    const code = await runValidate([file], { format: 'json', cache: false }, io);
    expect(code).toBe(1);
    const json = JSON.parse(out.stdout) as { diagnostics: { file: string; rule: string }[] };
    expect(json.diagnostics.length).toBeGreaterThan(0);
    expect(json.diagnostics.every((d) => d.file === file)).toBe(true);
    expect(json.diagnostics.map((d) => d.rule)).toContain('cron');
  });
});
