import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';

// What trig keeps between runs (the check cache, and later its state) steers what it runs,
// and trig runs as root in CI and from cron. Whoever can write where it is kept could plant
// a result or a link, so trig reads and writes there only when the place is private to
// the user running it, as ssh refuses a key file that others can write.

// Windows has none of these flags (nor POSIX owners): there they are 0, a no-op.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCKING = constants.O_NONBLOCK ?? 0;

/** The user trig runs as; undefined where files have no POSIX owner (Windows). */
function currentUid(): number | undefined {
  return process.getuid?.();
}

/**
 * Why a file or folder is not private to the current user, as the end of a sentence about
 * it ("is owned by uid 65534, not by uid 0"), or undefined when it is: owned by the user,
 * and not writable by its group or by others.
 */
export function whyNotPrivate(stats: Stats, uid: number | undefined = currentUid()): string | undefined {
  if (uid === undefined) return undefined;
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
  if (stats.uid !== uid) return `is owned by uid ${stats.uid}, not by uid ${uid} (trig's user)`;
  if (stats.mode & 0o002) return `is writable by others (mode ${mode})`;
  if (stats.mode & 0o020) return `is writable by its group (mode ${mode})`;
  return undefined;
}

/**
 * A private regular file's text, or undefined when there is none or it is not private.
 * Opened without following a link (and without waiting on a FIFO), then checked through
 * the open descriptor, so that nothing can be swapped in between the check and the read.
 */
export function readPrivateFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | NO_FOLLOW | NON_BLOCKING);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || whyNotPrivate(stats)) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file readable by its owner only, whole or not at all: the text goes to a new
 * file under a fresh name, created exclusively (never an existing file, never through a
 * link), which then replaces `file` (a link there is replaced, not followed). Returns
 * whether it was written; a failure leaves nothing behind.
 */
export function writePrivateFile(file: string, text: string): boolean {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o600);
  } catch {
    return false;
  }
  try {
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    return true;
  } catch {
    // The temporary file is this call's own (created exclusively above): nobody else's.
    rmSync(temporary, { force: true });
    return false;
  }
}
