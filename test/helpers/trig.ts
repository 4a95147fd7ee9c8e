import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TRIG = `${ROOT}bin/trig`;

/**
 * Each test file gets its own check cache, so that tests never read the results of another
 * file's (or another build's) runs, and repeated runs within a file exercise the cache.
 */
export const CACHE_DIR = mkdtempSync(path.join(tmpdir(), 'trig-test-cache-'));

export interface TrigResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built bin/trig as a user would (tests run after `npm run build`), from the
 * repository root unless `cwd` says otherwise, with colour off.
 */
export function trig(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): TrigResult {
  const result = spawnSync(process.execPath, [TRIG, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TRIG_CACHE_DIR: CACHE_DIR, ...options.env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
