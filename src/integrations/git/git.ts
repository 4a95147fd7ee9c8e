import { spawnSync } from 'node:child_process';

export class GitError extends Error {}

/** An all-zero object name: git's "no commit" (a created or deleted ref). */
export function isZeroSha(sha: string | undefined): boolean {
  return sha === undefined || sha === '' || /^0+$/.test(sha);
}

export interface GitOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs git and returns its standard output; a non-zero exit throws with git's message. */
export function git(args: readonly string[], options: GitOptions): string {
  const result = spawnSync('git', args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) throw new GitError(`git ${args[0]}: ${result.error.message}`);
  if (result.status !== 0) {
    const message = result.stderr.trim().split('\n').pop() || `exit status ${result.status}`;
    throw new GitError(`git ${args.join(' ')}: ${message}`);
  }
  return result.stdout;
}

/** Like `git`, but a failure is an answer (undefined), for questions such as "is there a parent?". */
export function gitMaybe(args: readonly string[], options: GitOptions): string | undefined {
  try {
    return git(args, options);
  } catch (error) {
    if (error instanceof GitError) return undefined;
    throw error;
  }
}

/** The commit `rev` names (peeling tags), or undefined when there is none. */
export function commitOf(rev: string, options: GitOptions): string | undefined {
  return gitMaybe(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], options)?.trim() || undefined;
}

/** NUL-separated output (`-z`) as a list. */
export function nulList(output: string): string[] {
  return output.split('\0').filter((s) => s !== '');
}
