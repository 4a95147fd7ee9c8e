import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';

export const DEFAULT_DEFINITIONS_DIR = '.harness';

const DEFINITION_FILE = /\.ya?ml$/;
const SKIPPED_DIRS = new Set(['node_modules', '.git']);

/** A path argument that names nothing: a usage error, reported before anything runs. */
export class PathError extends Error {}

/** A file met while walking a folder that trig leaves alone, and why. */
export interface SkippedPath {
  file: string;
  reason: string;
}

/** What a file that is neither regular nor a directory is, for the warning that skips it. */
function specialKind(stat: Stats | Dirent): string {
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

interface Found {
  files: string[];
  skipped: SkippedPath[];
}

function walk(dir: string, out: Found, accept: (name: string) => boolean = (n) => DEFINITION_FILE.test(n)): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new PathError(`${dir}: cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(full, out, accept);
      continue;
    }
    if (!accept(entry.name)) continue;
    if (entry.isFile()) {
      out.files.push(full);
      continue;
    }
    // Reading a pipe or a device found in a folder would wait on it, or never end: only
    // regular files are read there (one named on the command line is read whatever it is).
    // A symbolic link counts as what it leads to; one that leads nowhere or loops is kept,
    // so that reading it reports the problem with the other files' results.
    const target = entry.isSymbolicLink() ? statOrError(full) : entry;
    if (target instanceof Error || target.isFile()) out.files.push(full);
    else if (!target.isDirectory()) out.skipped.push({ file: full, reason: `${specialKind(target)}, not a definition file` });
  }
}

function statOrError(p: string): Stats | Error {
  try {
    return statSync(p);
  } catch (error) {
    return error as Error;
  }
}

function statOrUndefined(p: string) {
  const stat = statOrError(p);
  return stat instanceof Error ? undefined : stat;
}

/**
 * Whether a path argument names something, even something that cannot be read: a
 * symbolic link that leads nowhere or loops, or a file behind a folder trig may not
 * enter. Reading it then says what is wrong, as for any other file.
 */
function existsAsEntry(p: string, error: NodeJS.ErrnoException): boolean {
  if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') return true;
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

// Any character picomatch gives a meaning to; a path without one is never a glob, and
// picomatch (large next to the rest of start-up) is loaded only for one that might be.
export const GLOB_CHARACTER = /[*?[\]{}()!+@]/;

/**
 * Expands file, directory and glob arguments into definition files, sorted and without
 * duplicates. Files are taken whatever their extension; directories are searched for
 * *.yaml and *.yml; globs are matched against every file under their static base. Pipes,
 * sockets and devices met in a folder are left out, each in `skipped`.
 */
export async function expandPaths(args: readonly string[]): Promise<{ files: string[]; skipped: SkippedPath[] }> {
  const files = new Set<string>();
  const skipped: SkippedPath[] = [];
  const given = args.length ? args : [DEFAULT_DEFINITIONS_DIR];
  for (const arg of given) {
    const stat = statOrError(arg);
    // Whatever is not a directory is read as one file: a pipe too, as in
    // `trig validate <(git show :.harness/deploy.yaml)`.
    if (stat instanceof Error ? existsAsEntry(arg, stat) : !stat.isDirectory()) {
      files.add(path.normalize(arg));
      continue;
    }
    if (!(stat instanceof Error)) {
      const found: Found = { files: [], skipped };
      walk(arg, found);
      found.files.forEach((f) => files.add(f));
      continue;
    }
    const picomatch = GLOB_CHARACTER.test(arg) ? (await import('picomatch')).default : undefined;
    const scan = picomatch?.scan(arg);
    if (!picomatch || !scan?.isGlob) {
      if (!args.length) {
        throw new PathError(`no ${DEFAULT_DEFINITIONS_DIR}/ folder here; name the definition files or folders to use`);
      }
      throw new PathError(`${arg}: no such file or directory`);
    }
    const base = scan.base || '.';
    const isMatch = picomatch(scan.glob, { dot: false });
    const found: Found = { files: [], skipped: [] };
    if (statOrUndefined(base)?.isDirectory()) walk(base, found, () => true);
    const relative = (f: string) => path.relative(base, f).split(path.sep).join('/');
    const matched = found.files.filter((f) => isMatch(relative(f)));
    skipped.push(...found.skipped.filter((s) => isMatch(relative(s.file))));
    if (!matched.length) throw new PathError(`${arg}: no files match`);
    matched.forEach((f) => files.add(f));
  }
  return { files: [...files].sort(), skipped };
}
