import { closeSync, constants, lstatSync, mkdirSync, openSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../shared/errors.js';
import { whyNotPrivate } from '../shared/private-files.js';

// Where the store lives, and the rule that makes it trustworthy: trig runs as root from
// cron and CI, and what the store says decides what runs (a duplicate is skipped, a run is
// marked lost and its processes stopped). So the folder and the database file must be the
// user's own and writable by nobody else, and neither may be a link; otherwise trig refuses
// to use them rather than working around them (unlike the cache, the store cannot be skipped
// without losing exactly-once).

export const STORE_FILE = 'trig.db';
/**
 * Beside the store: exists whenever a run may be suspended (retrying), so that the
 * every-minute cron tick looks for suspended runs by one lstat, without opening the store.
 */
export const RESUME_HINT_FILE = 'resumable';

/** The store cannot be used: one line for the user, exit code 2, nothing run. */
export class StorePlaceError extends UsageError {}

/** `$TRIG_STATE_DIR`, else `$XDG_STATE_HOME/trig`, else `~/.local/state/trig`. */
export function stateDir(env: NodeJS.ProcessEnv): string {
  if (env.TRIG_STATE_DIR) return path.resolve(env.TRIG_STATE_DIR);
  return path.join(env.XDG_STATE_HOME ? path.resolve(env.XDG_STATE_HOME) : path.join(os.homedir(), '.local', 'state'), 'trig');
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether the store's file exists (as anything: preparePlace judges what it is), without creating the folder. */
export function storeExists(dir: string): boolean {
  try {
    return lstatOrUndefined(path.join(dir, STORE_FILE)) !== undefined;
  } catch (error) {
    // The state folder is a file: opening says so.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return true;
    throw error;
  }
}

/**
 * Why the folders above the state folder would let another user swap it for theirs between
 * trig's checks and its use, or undefined. Each one up to `/`, as written and as the links in
 * it resolve, must be owned by the user or by root and writable by no one else, unless its
 * sticky bit keeps others from renaming what is not theirs (as `/tmp`'s does): the rule of
 * ssh's StrictModes for a home folder.
 */
export function whyParentsUnsafe(dir: string, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid === undefined) return undefined;
  const above = (start: string) => {
    const folders: string[] = [];
    for (let p = path.dirname(start); ; p = path.dirname(p)) {
      folders.push(p);
      if (path.dirname(p) === p) return folders;
    }
  };
  let nearest = path.dirname(dir);
  while (!lstatOrUndefined(nearest) && path.dirname(nearest) !== nearest) nearest = path.dirname(nearest);
  const folders = new Set([...above(dir), ...above(path.join(realpathSync(nearest), 'x'))]);
  for (const folder of folders) {
    let stats: Stats;
    try {
      stats = statSync(folder);
    } catch {
      continue; // not there yet: it will be made, private, with the state folder
    }
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    if (stats.uid !== uid && stats.uid !== 0)
      return `${folder}, which is owned by uid ${stats.uid}, neither trig's user (uid ${uid}) nor root`;
    if (stats.mode & 0o022 && !(stats.mode & 0o1000)) return `${folder}, which others than its owner can write (mode ${mode}, not sticky)`;
  }
  return undefined;
}

/** Whether a run may be suspended in the store of this folder (the hint file is there); never creates anything. */
export function resumeHinted(dir: string): boolean {
  try {
    return lstatSync(path.join(dir, RESUME_HINT_FILE)).isFile();
  } catch {
    return false;
  }
}

/** Creates the hint file (empty, 0600; an existing one is left as it is, and a link is never followed). */
export function setResumeHint(dir: string): void {
  try {
    closeSync(openSync(path.join(dir, RESUME_HINT_FILE), constants.O_WRONLY | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600));
  } catch {
    // Without it, the cron tick does not look; `trig resume` still finds the run.
  }
}

export function clearResumeHint(dir: string): void {
  rmSync(path.join(dir, RESUME_HINT_FILE), { force: true });
}

/** Creates the folder (0700) when missing and checks that it, the folders above it, and the database file if present, are private. */
export function preparePlace(dir: string): string {
  const parentProblem = whyParentsUnsafe(dir);
  if (parentProblem) throw new StorePlaceError(`the state folder ${dir} is under ${parentProblem}; trig will not keep its store there`);
  let stats = lstatOrUndefined(dir);
  if (!stats) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    stats = lstatSync(dir);
  }
  if (stats.isSymbolicLink()) throw new StorePlaceError(`the state folder ${dir} is a symbolic link; trig does not follow it`);
  if (!stats.isDirectory()) throw new StorePlaceError(`the state folder ${dir} is not a folder`);
  const folderProblem = whyNotPrivate(stats);
  if (folderProblem) throw new StorePlaceError(`the state folder ${dir} ${folderProblem}; trig will not keep its store there`);
  const file = path.join(dir, STORE_FILE);
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    const fileStats = lstatOrUndefined(name);
    if (!fileStats) continue;
    if (!fileStats.isFile()) throw new StorePlaceError(`${name} is not a regular file; trig will not open it`);
    const problem =
      whyNotPrivate(fileStats) ??
      (fileStats.mode & 0o044 ? `is readable by others (mode ${(fileStats.mode & 0o777).toString(8)})` : undefined);
    if (problem) throw new StorePlaceError(`${name} ${problem}; trig will not open it`);
  }
  return file;
}
