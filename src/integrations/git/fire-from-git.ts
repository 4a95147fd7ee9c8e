// `trig fire --event push --from-git [--before REV] [--after REV] [--ref REF]`: the payload
// comes from the repository in the current directory, built as the git hooks build it.

import { UsageError } from '../../shared/errors.js';
import { GitError } from './git.js';
import { payloadFromGit } from './payload.js';

export interface FromGitFireOptions {
  event: string;
  payload?: string;
  fromGit?: boolean;
  before?: string;
  after?: string;
  ref?: string;
}

/** Usage errors for git options given without --from-git, or with what they cannot go with. */
export function checkFromGitOptions(options: FromGitFireOptions): void {
  if (!options.fromGit) {
    const stray = (['before', 'after', 'ref'] as const).find((k) => options[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} goes with --from-git`);
    return;
  }
  if (options.payload !== undefined) throw new UsageError('--from-git builds the payload: give it or --payload, not both');
  if (options.ref !== undefined && !options.ref.startsWith('refs/')) {
    throw new UsageError(`--ref ${options.ref}: give the full ref name (refs/heads/${options.ref} or refs/tags/${options.ref})`);
  }
  if (options.event !== 'push') throw new UsageError(`--from-git builds a push payload; it cannot stand for "${options.event}"`);
}

export function fromGitPayload(options: FromGitFireOptions, cwd: string = process.cwd()): Record<string, unknown> {
  checkFromGitOptions(options);
  try {
    return payloadFromGit({
      cwd,
      ...(options.after !== undefined ? { after: options.after } : {}),
      ...(options.before !== undefined ? { before: options.before } : {}),
      ...(options.ref !== undefined ? { ref: options.ref } : {}),
    });
  } catch (error) {
    if (error instanceof GitError) throw new UsageError(`--from-git: ${error.message}`);
    throw error;
  }
}
