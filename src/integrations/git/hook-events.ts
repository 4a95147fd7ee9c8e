// Which `push` events a git hook invocation stands for, from the hook's arguments, its
// standard input and the repository's state.

import { commitOf, gitMaybe, isZeroSha, type GitOptions } from './git.js';

export const CLIENT_HOOKS = ['post-commit', 'post-merge', 'post-checkout', 'pre-push'] as const;
export const SERVER_HOOKS = ['post-receive'] as const;
export type HookName = (typeof CLIENT_HOOKS)[number] | (typeof SERVER_HOOKS)[number];
export const HOOK_NAMES: readonly HookName[] = [...CLIENT_HOOKS, ...SERVER_HOOKS];

/** Hooks whose standard input carries the refs (and must be passed on to a chained hook). */
export const STDIN_HOOKS: readonly HookName[] = ['pre-push', 'post-receive'];

export interface RefUpdate {
  ref: string;
  /** The old value; undefined for a new ref or when there is no previous commit. */
  before?: string;
  after: string;
}

function currentBranchRef(options: GitOptions): string | undefined {
  return gitMaybe(['symbolic-ref', '--quiet', 'HEAD'], options)?.trim() || undefined;
}

function lines(stdin: string): string[][] {
  return stdin
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/));
}

/**
 * The ref updates a hook reports. Deleted refs fire nothing (there is no commit to run
 * on); nor does a commit, merge or checkout on a detached HEAD (there is no branch).
 */
export function hookUpdates(hook: HookName, args: readonly string[], stdin: string, options: GitOptions): RefUpdate[] {
  switch (hook) {
    case 'post-commit': {
      const ref = currentBranchRef(options);
      const after = commitOf('HEAD', options);
      if (!ref || !after) return [];
      const before = commitOf('HEAD~1', options);
      return [{ ref, after, ...(before ? { before } : {}) }];
    }
    case 'post-merge': {
      const ref = currentBranchRef(options);
      const after = commitOf('HEAD', options);
      if (!ref || !after) return [];
      // git sets ORIG_HEAD to the branch's tip before the merge (pull included).
      const before = commitOf('ORIG_HEAD', options) ?? commitOf('HEAD~1', options);
      return [{ ref, after, ...(before ? { before } : {}) }];
    }
    case 'post-checkout': {
      const [previous, next, branchFlag] = args;
      // The flag is 1 for a branch checkout, 0 for a checkout of files.
      if (branchFlag !== '1' || !next) return [];
      const ref = currentBranchRef(options);
      if (!ref) return [];
      return [{ ref, after: next, ...(!isZeroSha(previous) ? { before: previous } : {}) }];
    }
    case 'pre-push':
      // <local ref> <local sha> <remote ref> <remote sha>: the event is about the remote's ref.
      return lines(stdin).flatMap(([, localSha, remoteRef, remoteSha]): RefUpdate[] =>
        !localSha || !remoteRef || isZeroSha(localSha)
          ? []
          : [{ ref: remoteRef, after: localSha, ...(!isZeroSha(remoteSha) ? { before: remoteSha } : {}) }],
      );
    case 'post-receive':
      // <old> <new> <ref>
      return lines(stdin).flatMap(([oldSha, newSha, ref]): RefUpdate[] =>
        !newSha || !ref || isZeroSha(newSha) ? [] : [{ ref, after: newSha, ...(!isZeroSha(oldSha) ? { before: oldSha } : {}) }],
      );
  }
}
