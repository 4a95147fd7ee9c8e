import { statSync } from 'node:fs';
import path from 'node:path';
import { checkWorkdir } from '../fire/index.js';
import { watchTree } from '../integrations/watch/watch.js';
import { parseDuration } from '../shared/duration.js';
import { UsageError } from '../shared/errors.js';
import { noticesTo, type Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { styleFor } from '../shared/style.js';
import { loadDefinitions } from '../validate/definitions.js';
import { parseConcurrency, parseTimeout, processFireDeps } from './fire.js';

/** The flags of `trig watch`, as commander gives them. */
export interface WatchFlags {
  defs?: string[];
  debounce: string;
  workdir?: string;
  quiet?: boolean;
  containerRuntime: string;
  concurrency: string;
  timeout?: string;
  /** false with --no-cache. */
  cache?: boolean;
}

/** The longest debounce: a batch waits ten of them at most, and an hour is already a long wait. */
const MAX_DEBOUNCE_MS = 3_600_000;

export function parseDebounce(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms > MAX_DEBOUNCE_MS)
    throw new UsageError(`--debounce "${oneLine(text)}": expected a duration such as 200ms, 2s or 1m, at most 1h`);
  return ms;
}

function watchedDir(dir: string | undefined): string {
  const root = path.resolve(dir ?? '.');
  let isDirectory = false;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new UsageError(`${oneLine(dir ?? '.')}: no such directory to watch`);
  return root;
}

/** `trig watch [DIR]`: every settled batch of changes under DIR fires file_change, until a signal. */
export async function runWatch(dir: string | undefined, flags: WatchFlags, io: Output): Promise<number> {
  const root = watchedDir(dir);
  const debounceMs = parseDebounce(flags.debounce);
  const concurrency = parseConcurrency(flags.concurrency);
  const timeoutMs = parseTimeout(flags.timeout);
  // The runs work in the tree they watch, unless told otherwise.
  const workdir = path.resolve(flags.workdir ?? root);
  checkWorkdir(workdir);
  const { now, env, cwd, openStore } = processFireDeps(io, flags);
  return watchTree({
    root,
    defs: flags.defs ?? [],
    debounceMs,
    fireOptions: { workdir, concurrency, timeoutMs, quiet: Boolean(flags.quiet), containerRuntime: flags.containerRuntime },
    deps: { now, env, cwd, openStore },
    // The files and the check: the files are watched for a reload.
    loadDefinitions: (paths) => loadDefinitions(paths, { cache: flags.cache, env, notice: noticesTo(io.stderr) }),
    io,
    style: await styleFor(io.stdout),
  });
}
