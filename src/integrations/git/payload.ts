// Builds the flat `push` payload from a git repository: the fields the catalog names for
// `push` (branch or tag, before, after, commitSha, commitMessage, author, changedFiles)
// plus `repo` and `ref`, so that `branches`, `tags` and `paths` filters work on a local
// push as they do on a GitHub delivery. Shared by the git hooks and
// `trig fire --event push --from-git`.

import path from 'node:path';
import { refFields } from '../../shared/git-refs.js';
import { commitOf, git, gitMaybe, GitError, isZeroSha, nulList, type GitOptions } from './git.js';

export interface PushPayloadOptions {
  /** The repository (a work tree or a bare repository). */
  cwd: string;
  /** The new value of the ref: a commit, or a tag object for annotated tags. */
  after: string;
  /** The old value; absent or all-zero for a new ref (the commit's own files are the changed files). */
  before?: string;
  /** The full ref name (`refs/heads/main`, `refs/tags/v1`); other refs give neither branch nor tag. */
  ref?: string;
  /** The repository name to report; derived from the `origin` remote or the directory when absent. */
  repo?: string;
  env?: NodeJS.ProcessEnv;
}

export interface PushPayload {
  repo: string;
  ref?: string;
  branch?: string;
  tag?: string;
  before: string;
  after: string;
  commitSha: string;
  commitMessage: string;
  author: string;
  changedFiles: string[];
  [key: string]: unknown;
}

const ZERO = '0000000000000000000000000000000000000000';

/** The last path segment of a remote URL or directory, without `.git`: `git@host:o/name.git` → `name`. */
export function repoBasename(location: string): string {
  const trimmed = location.replace(/[\\/]+$/, '');
  const last = trimmed.split(/[\\/:]/).pop() ?? trimmed;
  return last.replace(/\.git$/, '') || last;
}

/**
 * The repository's name: the basename of the `origin` remote's URL when there is one (so
 * that a clone and the server it pushes to report the same name), else the name of the
 * work tree's directory, or of the bare repository's directory without `.git`.
 */
export function repoName(options: GitOptions): string {
  const origin = gitMaybe(['config', '--get', 'remote.origin.url'], options)?.trim();
  if (origin) return repoBasename(origin);
  const top = gitMaybe(['rev-parse', '--show-toplevel'], options)?.trim();
  if (top) return path.basename(top);
  const gitDir = git(['rev-parse', '--absolute-git-dir'], options).trim();
  return repoBasename(gitDir);
}

/** Files the commit itself changes: all of them for a root commit, else against its first parent. */
function ownFiles(commit: string, options: GitOptions): string[] {
  return nulList(
    git(['diff-tree', '-r', '--root', '-m', '--first-parent', '--no-commit-id', '--name-only', '--no-renames', '-z', commit], options),
  );
}

/** The push payload for `before..after` on `ref`. Throws GitError when `after` names no commit. */
export function buildPushPayload(options: PushPayloadOptions): PushPayload {
  const gitOptions: GitOptions = { cwd: options.cwd, ...(options.env ? { env: options.env } : {}) };
  const commit = commitOf(options.after, gitOptions);
  if (!commit) throw new GitError(`${options.after}: not a commit in ${options.cwd}`);
  const after = git(['rev-parse', '--verify', `${options.after}^{object}`], gitOptions).trim();
  // A `before` this repository does not have (a force push over commits never fetched)
  // cannot be compared with: the commit's own files are the best answer left.
  const beforeCommit = isZeroSha(options.before) ? undefined : commitOf(options.before!, gitOptions);
  const before = isZeroSha(options.before) ? ZERO : (beforeCommit ?? options.before!);
  const changedFiles = beforeCommit
    ? nulList(git(['diff', '--name-only', '--no-renames', '-z', beforeCommit, commit, '--'], gitOptions))
    : ownFiles(commit, gitOptions);
  const [author = '', ...message] = git(['log', '-1', '--format=%an%n%B', commit, '--'], gitOptions).split('\n');
  return {
    repo: options.repo ?? repoName(gitOptions),
    ...(options.ref ? { ref: options.ref } : {}),
    ...refFields(options.ref),
    before,
    after,
    commitSha: commit,
    commitMessage: message.join('\n').replace(/\n+$/, ''),
    author,
    changedFiles,
  };
}

export interface FromGitOptions {
  cwd: string;
  /** Default: HEAD. */
  after?: string;
  /** Default: the first parent of `after`, or none for a root commit. */
  before?: string;
  /** Default: the full name `after` stands for (HEAD → the current branch), if it names a branch or tag. */
  ref?: string;
  env?: NodeJS.ProcessEnv;
}

/** The push payload for `trig fire --event push --from-git [--before] [--after] [--ref]`. */
export function payloadFromGit(options: FromGitOptions): PushPayload {
  const gitOptions: GitOptions = { cwd: options.cwd, ...(options.env ? { env: options.env } : {}) };
  const after = options.after ?? 'HEAD';
  for (const [name, rev] of [
    ['--after', after],
    ['--before', options.before],
    ['--ref', options.ref],
  ] as const) {
    // A revision is never an option of the git commands it is handed to.
    if (rev?.startsWith('-')) throw new GitError(`${name} ${rev}: not a revision`);
  }
  if (!commitOf(after, gitOptions)) throw new GitError(`--after ${after}: not a commit in ${options.cwd}`);
  let before = options.before;
  if (before !== undefined && !isZeroSha(before) && !commitOf(before, gitOptions)) {
    throw new GitError(`--before ${before}: not a commit in ${options.cwd}`);
  }
  before ??= commitOf(`${after}^{commit}~1`, gitOptions) ?? ZERO;
  const full = gitMaybe(['rev-parse', '--symbolic-full-name', after], gitOptions)?.trim();
  const ref = options.ref ?? (full && full.startsWith('refs/') ? full : undefined);
  return buildPushPayload({ cwd: options.cwd, after, before, ...(ref ? { ref } : {}), ...(options.env ? { env: options.env } : {}) });
}
