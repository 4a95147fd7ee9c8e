// What `trig watch` leaves out of the tree it watches: `.git` and `node_modules` always,
// trig's own state and cache folders when they lie inside it (the store is written
// after every run: watching it would fire for ever), and what git ignores. git itself
// answers for .gitignore (every .gitignore, .git/info/exclude, core.excludesFile, and
// tracked files never ignored), so the rules are git's exactly, not a re-implementation.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { nulList } from '../git/git.js';

/** Folders left out wherever they are, whatever git says. */
const ALWAYS_IGNORED = new Set(['.git', 'node_modules']);

/** A path relative to the root, with `/` separators. */
export function relativePath(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join('/');
}

export function alwaysIgnored(relative: string): boolean {
  return relative.split('/').some((part) => ALWAYS_IGNORED.has(part));
}

/** Whether `file` is `dir` itself or inside it (absolute paths). */
export function isWithin(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface WatchIgnore {
  /** For the watcher, synchronous: whether to leave a path (absolute) out, folders included. */
  skip(absolute: string): boolean;
  /** The paths (relative) of a batch that git ignores: asked once per batch, as .gitignore may have changed. */
  gitIgnored(paths: readonly string[]): Set<string>;
  /** Whether git's ignore rules apply (the root is in a git work tree, and git runs). */
  readonly git: boolean;
}

function runGit(args: string[], cwd: string, input?: string) {
  return spawnSync('git', args, {
    cwd,
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * The ignore rules for a root. `ownFolders` are trig's state and cache folders; `warn`
 * hears (once per problem) when git could not answer.
 */
export function watchIgnore(root: string, ownFolders: readonly string[], warn: (line: string) => void): WatchIgnore {
  const inside = runGit(['rev-parse', '--is-inside-work-tree'], root);
  const git = !inside.error && inside.status === 0 && inside.stdout.trim() === 'true';
  const own = ownFolders.map((dir) => path.resolve(dir)).filter((dir) => isWithin(root, dir));
  // Folders git ignores as a whole when the watch starts (build output, caches) are not
  // even watched; files under a folder ignored later are left out by gitIgnored.
  const ignoredDirs = new Set<string>();
  if (git) {
    const listed = runGit(['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z'], root);
    if (listed.status === 0) for (const entry of nulList(listed.stdout)) if (entry.endsWith('/')) ignoredDirs.add(entry.slice(0, -1));
  }
  const warned = new Set<string>();
  return {
    git,
    skip(absolute) {
      if (own.some((dir) => isWithin(dir, absolute))) return true;
      const relative = relativePath(root, absolute);
      if (relative === '') return false;
      if (alwaysIgnored(relative)) return true;
      const parts = relative.split('/');
      for (let i = 1; i <= parts.length; i++) if (ignoredDirs.has(parts.slice(0, i).join('/'))) return true;
      return false;
    },
    gitIgnored(paths) {
      if (!git || paths.length === 0) return new Set();
      // -z: paths (which may hold newlines) are NUL-separated both ways; exit 1 is "none ignored".
      const result = runGit(['check-ignore', '--stdin', '-z'], root, paths.join('\0'));
      if (result.error || (result.status !== 0 && result.status !== 1)) {
        const why = result.error?.message ?? (result.stderr.trim().split('\n').pop() || `exit status ${result.status}`);
        const line = `warning: git check-ignore failed (${why}); .gitignore is not applied to this batch`;
        if (!warned.has(line)) warn(line);
        warned.add(line);
        return new Set();
      }
      return new Set(nulList(result.stdout));
    },
  };
}
