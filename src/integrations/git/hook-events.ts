// Which `push` events a git hook invocation stands for, from the hook's arguments, its
// standard input and the repository's state.

import { commitOf, gitMaybe, isZeroSha, type GitOptions } from './git.js';

export const CLIENT_HOOKS = ['post-commit', 'post-merge', 'pre-push'] as const;
export const SERVER_HOOKS = ['post-receive'] as const;
/**
 * Hooks earlier versions of trig installed and this one does not: a branch switch
 * (post-checkout) is not a push. Their scripts fire nothing; install and uninstall remove them.
 */
export const RETIRED_HOOKS = ['post-checkout'] as const;
export type InstallableHook = (typeof CLIENT_HOOKS)[number] | (typeof SERVER_HOOKS)[number];
export type HookName = InstallableHook | (typeof RETIRED_HOOKS)[number];
export const HOOK_NAMES: readonly HookName[] = [...CLIENT_HOOKS, ...SERVER_HOOKS, ...RETIRED_HOOKS];

/**
 * What `trig hooks install` sets without `--hooks`: one hook per push, where the push
 * happens. A clone fires when it pushes (pre-push), a bare repository when it receives
 * (post-receive); post-commit and post-merge, which fire for local work, are opt-in.
 */
export const DEFAULT_CLIENT_HOOKS: readonly InstallableHook[] = ['pre-push'];
export const DEFAULT_SERVER_HOOKS: readonly InstallableHook[] = ['post-receive'];

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
    case 'post-checkout':
      // A branch switch moves no ref anywhere: it is not a push.
      return [];
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
