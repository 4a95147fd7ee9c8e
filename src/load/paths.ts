import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_DEFINITIONS_DIR = '.harness';

const DEFINITION_FILE = /\.ya?ml$/;
const SKIPPED_DIRS = new Set(['node_modules', '.git']);

/** A path argument that names nothing: a usage error, reported before anything runs. */
export class PathError extends Error {}

function walk(dir: string, out: string[], accept: (name: string) => boolean = (n) => DEFINITION_FILE.test(n)): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(full, out, accept);
    } else if (accept(entry.name)) {
      out.push(full);
    }
  }
}

function statOrUndefined(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

// Any character picomatch gives a meaning to; a path without one is never a glob, and
// picomatch (large next to the rest of start-up) is loaded only for one that might be.
const GLOB_CHARACTER = /[*?[\]{}()!+@]/;

/**
 * Expands file, directory and glob arguments into definition files, sorted and without
 * duplicates. Files are taken whatever their extension; directories are searched for
 * *.yaml and *.yml; globs are matched against every file under their static base.
 */
export async function expandPaths(args: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  const given = args.length ? args : [DEFAULT_DEFINITIONS_DIR];
  for (const arg of given) {
    const stat = statOrUndefined(arg);
    // Whatever is not a directory is read as one file: a pipe too, as in
    // `trig validate <(git show :.harness/deploy.yaml)`.
    if (stat && !stat.isDirectory()) {
      files.add(path.normalize(arg));
      continue;
    }
    if (stat?.isDirectory()) {
      const found: string[] = [];
      walk(arg, found);
      found.forEach((f) => files.add(f));
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
    const found: string[] = [];
    if (statOrUndefined(base)?.isDirectory()) walk(base, found, () => true);
    const matched = found.filter((f) => isMatch(path.relative(base, f).split(path.sep).join('/')));
    if (!matched.length) throw new PathError(`${arg}: no files match`);
    matched.forEach((f) => files.add(f));
  }
  return [...files].sort();
}
