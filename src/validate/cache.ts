import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileCheck } from './check-text.js';

// trig runs every minute from cron and on every commit, mostly over definitions that have
// not changed. Parsing YAML with positions and validating costs far more than starting
// node, so the result of checking a file is kept, keyed by a hash of the file's name and
// content and of the trig build that checked it: a changed file, or another trig, is
// checked afresh. Any failure to read or write the cache only means checking again.
//
// On top of that, the results for one whole list of files are kept together, keyed by
// what `stat` says of each file (size, modification time to the nanosecond, inode), as
// git's index does: when nothing changed, one read replaces reading every file twice.

declare const TRIG_BUILD_ID: string | undefined;
const BUILD_ID = typeof TRIG_BUILD_ID === 'string' ? TRIG_BUILD_ID : 'dev';

/** How many lists of files keep their results together; the oldest go first. */
const MAX_SETS = 32;
/**
 * A file modified this recently may be modified again within the same timestamp tick
 * without its stat changing ("racy" in git's words): such a list is not kept together.
 */
const RACY_MS = 2_000;

export interface CheckCache {
  get(file: string, text: string): FileCheck | undefined;
  set(file: string, text: string, check: FileCheck): void;
  /** The results of exactly these files, if nothing about them changed since they were kept. */
  getSet(files: readonly string[], stats: readonly BigIntStats[]): FileCheck[] | undefined;
  setSet(files: readonly string[], stats: readonly BigIntStats[], checks: readonly FileCheck[]): void;
}

/** `$TRIG_CACHE_DIR`, else `$XDG_CACHE_HOME/trig`, else `~/.cache/trig`. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.TRIG_CACHE_DIR) return env.TRIG_CACHE_DIR;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'trig');
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 40);

/** Only plain JSON survives the round trip unchanged (YAML's .inf and .nan do not). */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(isPlainJson);
  return false;
}

function isFileCheck(value: unknown): value is FileCheck {
  const check = value as FileCheck | null;
  return typeof check === 'object' && check !== null && Array.isArray(check.documents) && Array.isArray(check.skipped) && Array.isArray(check.syntaxErrors);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Written aside and renamed, so that a concurrent trig never reads half a file. */
function writeJson(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify(value));
    renameSync(temporary, file);
  } catch {
    rmSync(temporary, { force: true });
  }
}

export function openCheckCache(env: NodeJS.ProcessEnv): CheckCache {
  const dir = path.join(cacheRoot(env), BUILD_ID);
  const setsDir = path.join(dir, 'sets');
  let ready: boolean | undefined;
  const prepare = (): boolean => {
    if (ready !== undefined) return ready;
    try {
      mkdirSync(setsDir, { recursive: true });
      // The results of other trig builds will never be read again.
      for (const entry of readdirSync(path.dirname(dir))) if (entry !== BUILD_ID) rmSync(path.join(path.dirname(dir), entry), { recursive: true, force: true });
      ready = true;
    } catch {
      ready = false;
    }
    return ready;
  };
  const fileEntry = (file: string, text: string) => path.join(dir, `${hash(BUILD_ID, path.basename(file), text)}.json`);
  const setEntry = (files: readonly string[], stats: readonly BigIntStats[]) =>
    path.join(setsDir, `${hash(BUILD_ID, ...files.map((f, i) => `${path.resolve(f)}:${stats[i]!.size}:${stats[i]!.mtimeNs}:${stats[i]!.ino}:${stats[i]!.dev}`))}.json`);

  return {
    get(file, text) {
      const check = readJson(fileEntry(file, text));
      return isFileCheck(check) ? check : undefined;
    },
    set(file, text, check) {
      if (check.documents.every((d) => isPlainJson(d.value)) && prepare()) writeJson(fileEntry(file, text), check);
    },
    getSet(files, stats) {
      const checks = readJson(setEntry(files, stats));
      return Array.isArray(checks) && checks.length === files.length && checks.every(isFileCheck) ? checks : undefined;
    },
    setSet(files, stats, checks) {
      const now = BigInt(Date.now()) * 1_000_000n;
      if (stats.some((s) => now - s.mtimeNs < BigInt(RACY_MS) * 1_000_000n)) return;
      if (!checks.every((c) => c.documents.every((d) => isPlainJson(d.value))) || !prepare()) return;
      writeJson(setEntry(files, stats), checks);
      try {
        const sets = readdirSync(setsDir).map((name) => ({ name, at: statSync(path.join(setsDir, name)).mtimeMs }));
        sets.sort((a, b) => b.at - a.at);
        for (const old of sets.slice(MAX_SETS)) rmSync(path.join(setsDir, old.name), { force: true });
      } catch {
        // Pruning is housekeeping: failing it loses nothing.
      }
    },
  };
}
