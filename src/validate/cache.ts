import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileCheck } from './check-text.js';

// trig runs every minute from cron and on every commit, mostly over definitions that have
// not changed. Parsing YAML with positions and validating costs far more than starting
// node, so the result of checking a file is kept, keyed by a hash of the file's name and
// content and of the trig build that checked it: a changed file, or another trig, is
// checked afresh. Any failure to read or write the cache only means checking again.

declare const TRIG_BUILD_ID: string | undefined;
const BUILD_ID = typeof TRIG_BUILD_ID === 'string' ? TRIG_BUILD_ID : 'dev';

export interface CheckCache {
  get(file: string, text: string): FileCheck | undefined;
  set(file: string, text: string, check: FileCheck): void;
}

/** `$TRIG_CACHE_DIR`, else `$XDG_CACHE_HOME/trig`, else `~/.cache/trig`. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.TRIG_CACHE_DIR) return env.TRIG_CACHE_DIR;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'trig');
}

function key(file: string, text: string): string {
  return createHash('sha256').update(BUILD_ID).update('\0').update(path.basename(file)).update('\0').update(text).digest('hex').slice(0, 40);
}

/** Only plain JSON survives the round trip unchanged (YAML's .inf and .nan do not). */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(isPlainJson);
  return false;
}

export function openCheckCache(env: NodeJS.ProcessEnv): CheckCache {
  const dir = path.join(cacheRoot(env), BUILD_ID);
  let ready: boolean | undefined;
  const prepare = (): boolean => {
    if (ready !== undefined) return ready;
    try {
      mkdirSync(dir, { recursive: true });
      // The results of other trig builds will never be read again.
      for (const entry of readdirSync(path.dirname(dir))) if (entry !== BUILD_ID) rmSync(path.join(path.dirname(dir), entry), { recursive: true, force: true });
      ready = true;
    } catch {
      ready = false;
    }
    return ready;
  };
  return {
    get(file, text) {
      try {
        const check = JSON.parse(readFileSync(path.join(dir, `${key(file, text)}.json`), 'utf8')) as FileCheck;
        return Array.isArray(check.documents) && Array.isArray(check.skipped) && Array.isArray(check.syntaxErrors) ? check : undefined;
      } catch {
        return undefined;
      }
    },
    set(file, text, check) {
      if (!check.documents.every((d) => isPlainJson(d.value)) || !prepare()) return;
      const target = path.join(dir, `${key(file, text)}.json`);
      const temporary = `${target}.${process.pid}.tmp`;
      try {
        // Written aside and renamed, so that a concurrent trig never reads half a file.
        writeFileSync(temporary, JSON.stringify(check));
        renameSync(temporary, target);
      } catch {
        rmSync(temporary, { force: true });
      }
    },
  };
}
