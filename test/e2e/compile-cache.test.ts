import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trig } from '../helpers/trig.js';

// Node >= 22.1 keeps compiled code in a compile cache. Left to itself it would use the
// shared temporary folder, where another user could plant code for root's trig to run;
// bin/trig puts it in the user's own trig cache folder, and only when that folder is
// private to the user.

const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

function home(mode: number | undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-home-'));
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  const cache = path.join(dir, '.cache', 'trig');
  if (mode !== undefined) {
    mkdirSync(cache, { recursive: true });
    chmodSync(cache, mode);
  }
  return { env: { HOME: dir, XDG_CACHE_HOME: undefined, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined }, tmp, cache };
}

describe.skipIf(!hasCompileCache)(`the compile cache (Node ${process.versions.node})`, () => {
  it("is kept in the user's own trig cache folder, never in the temporary folder", () => {
    const { env, tmp, cache } = home(0o700);
    expect(trig(['validate', 'fixtures/seed'], { env }).code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(path.join(cache, 'node-compile-cache')).length).toBeGreaterThan(0);
  });

  it('is not used when that folder is writable by others, or missing', () => {
    for (const mode of [0o777, 0o1777, undefined]) {
      const { env, tmp, cache } = home(mode);
      expect(trig(['validate', 'fixtures/seed'], { env }).code).toBe(0);
      expect(readdirSync(tmp)).toEqual([]);
      expect(existsSync(path.join(cache, 'node-compile-cache'))).toBe(false);
    }
  });
});

describe.skipIf(hasCompileCache)(`the compile cache (Node ${process.versions.node})`, () => {
  it.skip('needs Node 22.1 or newer: CI runs this file on Node 22 and 24', () => {});
});
