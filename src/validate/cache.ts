import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  type BigIntStats,
  type Stats,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPrivateFile, whyNotPrivate, writePrivateFile } from '../shared/private-files.js';
import type { CheckedFile, FileOutline } from './check-text.js';

// trig runs every minute from cron and on every commit, mostly over definitions that have
// not changed. Parsing YAML with positions and validating costs far more than starting
// node, so the result of checking a file is kept, keyed by a hash of the file's name and
// content and of the trig build that checked it: a changed file, or another trig, is
// checked afresh. Any failure to read or write the cache only means checking again.
//
// On top of that, the checks of one whole list of files are kept together in one entry,
// with what `stat` said of each file (size, modification time to the nanosecond, inode)
// when they were kept, as git's index does: when no stat changed, one read replaces
// reading and hashing every file. The entry's first line holds the signature and the
// outlines (each definition's `on:` and diagnostics), which is all the every-minute fire
// parses; each further line holds one file's whole check, parsed only for a definition
// that matched.
//
// What is kept decides what runs, and trig runs as root: the cache is used only in a folder
// private to the user (see shared/private-files.ts), entries are never read or written
// through a link, and trig prunes only the build folders that carry its marker, since
// `$TRIG_CACHE_DIR` may name a folder holding anything.

declare const TRIG_BUILD_ID: string | undefined;
const BUILD_ID = typeof TRIG_BUILD_ID === 'string' ? TRIG_BUILD_ID : 'dev';

/**
 * How many trig builds keep their results side by side, so that two trigs used in turn
 * (a global one and a project's own, say) do not throw away each other's; the builds that
 * wrote least recently go first.
 */
const MAX_BUILDS = 3;
/** How many lists of files keep their results together; the oldest go first. */
const MAX_SETS = 32;
/**
 * A file modified this recently may be modified again within the same timestamp tick
 * without its stat changing ("racy" in git's words): such a list is not kept together.
 */
const RACY_MS = 2_000;

export interface CheckCache {
  get(file: string, text: string): Promise<CheckedFile | undefined>;
  set(file: string, text: string, check: CheckedFile): Promise<void>;
  /** What was kept of exactly these files, if nothing about them changed since. */
  getSet(files: readonly string[], stats: readonly BigIntStats[]): KeptSet | undefined;
  setSet(files: readonly string[], stats: readonly BigIntStats[], outlines: readonly FileOutline[], checks: readonly CheckedFile[]): void;
}

export interface KeptSet {
  outlines: FileOutline[];
  /** The whole check of the i-th file, read from the entry only when asked for. */
  check(i: number): CheckedFile | undefined;
}

/** `$TRIG_CACHE_DIR`, else `$XDG_CACHE_HOME/trig`, else `~/.cache/trig`. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.TRIG_CACHE_DIR) return env.TRIG_CACHE_DIR;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'trig');
}

/**
 * Names a file's result by its content. node:crypto costs some 6 ms to load, so it is
 * loaded only here: when a file is checked afresh, or a matched definition is read whole.
 */
async function contentHash(...parts: string[]): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 40);
}

/**
 * Names a list of files: FNV-1a over UTF-16 code units in two 32-bit lanes. A name, not a
 * proof: the entry holds the full signature of its files, compared when it is read.
 */
function listHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** Only plain JSON survives the round trip unchanged (YAML's .inf and .nan do not). */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(isPlainJson);
  return false;
}

/** A file check and an outline share their shape; JSON read back is checked for it. */
function hasCheckShape(value: unknown): boolean {
  const check = value as FileOutline | null;
  return (
    typeof check === 'object' &&
    check !== null &&
    Array.isArray(check.documents) &&
    Array.isArray(check.skipped) &&
    Array.isArray(check.syntaxErrors)
  );
}

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * What trig writes into each build folder it creates: only folders that hold it, as a
 * private file, are trig's to write into and to prune. `$TRIG_CACHE_DIR` may well name a
 * folder that holds the user's own files.
 */
export const BUILD_MARKER = { name: '.trig-check-cache', text: 'A trig check cache folder: trig may delete it.\n' };
/** The names of the entries trig writes in a build's `sets` folder, the only ones it prunes there. */
const SET_ENTRY = /^[0-9a-f]{16}\.json$/;

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** Why a folder inside the cache is not one trig may use, or undefined when it is. */
function whyNotOwnFolder(dir: string, stats: Stats, marked: boolean): string | undefined {
  if (!stats.isDirectory()) return `${dir} is not a folder trig created`;
  const problem = whyNotPrivate(stats);
  if (problem) return `${dir} ${problem}`;
  if (marked && readPrivateFile(path.join(dir, BUILD_MARKER.name)) !== BUILD_MARKER.text) return `${dir} is not a folder trig created`;
  return undefined;
}

export interface CheckCacheOptions {
  /** Told, once, why the cache folder is not used. */
  warn?: (message: string) => void;
  /** The trig build whose results these are: this one unless a test says otherwise. */
  build?: string;
}

export function openCheckCache(env: NodeJS.ProcessEnv, options: CheckCacheOptions = {}): CheckCache {
  const build = options.build ?? BUILD_ID;
  const root = cacheRoot(env);
  const dir = path.join(root, build);
  const setsDir = path.join(dir, 'sets');

  // Whether the folders can be used: 'absent' until this build has written anything (only
  // a write creates them), 'refused' when any is not private to the user or not trig's.
  let state: 'usable' | 'absent' | 'refused' | undefined;
  const refuse = (problem: string): 'refused' => {
    options.warn?.(`not using the check cache ${root}: ${problem}; checking every file afresh`);
    return (state = 'refused');
  };
  const look = (): 'usable' | 'absent' | 'refused' => {
    if (state) return state;
    let rootStats: Stats;
    try {
      // Followed if a link: the folder it leads to is what must be private.
      rootStats = statSync(root);
    } catch {
      return (state = 'absent');
    }
    if (!rootStats.isDirectory()) return (state = 'absent');
    const problem = whyNotPrivate(rootStats);
    if (problem) return refuse(`it ${problem}`);
    const dirStats = lstatOrUndefined(dir);
    if (!dirStats) return (state = 'absent');
    const setsStats = lstatOrUndefined(setsDir);
    const folderProblem = whyNotOwnFolder(dir, dirStats, true) ?? (setsStats ? whyNotOwnFolder(setsDir, setsStats, false) : undefined);
    if (folderProblem) return refuse(folderProblem);
    return (state = 'usable');
  };
  const read = (file: string): string | undefined => (look() === 'usable' ? readPrivateFile(file) : undefined);

  let ready: boolean | undefined;
  const prepare = (): boolean => {
    if (ready !== undefined) return ready;
    ready = false;
    if (look() === 'refused') return ready;
    try {
      if (state === 'absent') {
        mkdirSync(root, { recursive: true, mode: 0o700 });
        // This build's folder appears whole, marker inside, so that no trig ever sees it
        // without its marker; when another trig made it first, that one is used.
        const staging = mkdtempSync(path.join(root, `.${build}.`));
        try {
          if (!writePrivateFile(path.join(staging, BUILD_MARKER.name), BUILD_MARKER.text)) throw new Error('no marker');
          mkdirSync(path.join(staging, 'sets'), { mode: 0o700 });
          renameSync(staging, dir);
        } catch {
          rmSync(staging, { recursive: true, force: true });
        }
        state = undefined;
        if (look() !== 'usable') return ready;
      }
      if (!lstatOrUndefined(setsDir)) mkdirSync(setsDir, { mode: 0o700 });
      const now = new Date();
      utimesSync(dir, now, now);
      pruneBuilds(root, build);
      ready = true;
    } catch {
      ready = false;
    }
    return ready;
  };
  const fileEntry = async (file: string, text: string) => path.join(dir, `${await contentHash(BUILD_ID, path.basename(file), text)}.json`);
  // Paths are relative to the working directory, which is part of both name and signature.
  const cwd = process.cwd();
  const setEntry = (files: readonly string[]) => path.join(setsDir, `${listHash([BUILD_ID, cwd, ...files].join('\n'))}.json`);
  const signature = (files: readonly string[], stats: readonly BigIntStats[]) =>
    [cwd, ...files.map((f, i) => `${f}:${stats[i]!.size}:${stats[i]!.mtimeNs}:${stats[i]!.ino}:${stats[i]!.dev}`)].join('\n');

  return {
    async get(file, text) {
      const check = parseJson(read(await fileEntry(file, text)));
      return hasCheckShape(check) ? (check as CheckedFile) : undefined;
    },
    async set(file, text, check) {
      if (check.documents.every((d) => isPlainJson(d.value)) && prepare())
        writePrivateFile(await fileEntry(file, text), JSON.stringify(check));
    },
    getSet(files, stats) {
      const text = read(setEntry(files));
      const firstLineEnd = text?.indexOf('\n') ?? -1;
      if (firstLineEnd < 0) return undefined;
      const head = parseJson(text!.slice(0, firstLineEnd)) as { signature?: unknown; outlines?: unknown } | undefined;
      if (head?.signature !== signature(files, stats)) return undefined;
      const { outlines } = head;
      if (!Array.isArray(outlines) || outlines.length !== files.length || !outlines.every(hasCheckShape)) return undefined;
      let lines: string[] | undefined;
      return {
        outlines,
        check(i) {
          // JSON.stringify escapes every newline inside a value, so lines are whole checks.
          lines ??= text!.slice(firstLineEnd + 1).split('\n');
          const check = parseJson(lines[i]);
          return hasCheckShape(check) ? (check as CheckedFile) : undefined;
        },
      };
    },
    setSet(files, stats, outlines, checks) {
      const now = BigInt(Date.now()) * 1_000_000n;
      if (stats.some((s) => now - s.mtimeNs < BigInt(RACY_MS) * 1_000_000n)) return;
      if (!checks.every((c) => c.documents.every((d) => isPlainJson(d.value))) || !prepare()) return;
      const head = JSON.stringify({ signature: signature(files, stats), outlines });
      writePrivateFile(setEntry(files), [head, ...checks.map((c) => JSON.stringify(c))].join('\n') + '\n');
      try {
        const sets = readdirSync(setsDir)
          .filter((name) => SET_ENTRY.test(name))
          .map((name) => ({ name, at: lstatSync(path.join(setsDir, name)).mtimeMs }));
        sets.sort((a, b) => b.at - a.at);
        for (const old of sets.slice(MAX_SETS)) rmSync(path.join(setsDir, old.name), { force: true });
      } catch {
        // Pruning is housekeeping: failing it loses nothing.
      }
    },
  };
}

/**
 * Keeps the folders of the builds that wrote most recently, this one included, and
 * removes older ones: only folders that carry trig's marker, never anything else there.
 */
function pruneBuilds(root: string, build: string): void {
  const others: { name: string; at: number }[] = [];
  for (const name of readdirSync(root)) {
    const stats = name === build ? undefined : lstatOrUndefined(path.join(root, name));
    if (stats && !whyNotOwnFolder(path.join(root, name), stats, true)) others.push({ name, at: stats.mtimeMs });
  }
  others.sort((a, b) => b.at - a.at);
  for (const old of others.slice(MAX_BUILDS - 1)) rmSync(path.join(root, old.name), { recursive: true, force: true });
}
