import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FireDeps } from '../../fire/index.js';
import { UsageError } from '../../shared/errors.js';
import type { Output } from '../../shared/io.js';
import { styleFor } from '../../shared/style.js';
import { git, gitMaybe, GitError, type GitOptions } from './git.js';
import { HOOK_NAMES, hookUpdates, STDIN_HOOKS, type HookName, type RefUpdate } from './hook-events.js';
import { isTrigHook } from './hooks.js';
import { buildPushPayload, repoName } from './payload.js';

export interface RunHookOptions {
  /** What the fire core needs of the process (the CLI supplies it); the runs' lines go to io.stdout. */
  deps: Omit<FireDeps, 'runOutput' | 'runStyle' | 'onPlanned'>;
  io: Output;
  blockOnFailure?: boolean;
}

export class UnknownHookError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const ZERO = '0000000000000000000000000000000000000000';

function gitLocalEnvNames(options: GitOptions): string[] {
  return (
    gitMaybe(['rev-parse', '--local-env-vars'], options)?.split('\n').filter(Boolean) ?? ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']
  );
}

/**
 * git exports variables such as GIT_DIR and GIT_INDEX_FILE to its hooks; a run's script
 * that calls git in another directory (the exported tree of a push) must not inherit them.
 */
function dropGitLocalEnv(options: GitOptions): void {
  for (const name of gitLocalEnvNames(options)) delete process.env[name];
}

/** The directory of a remote URL that names a repository on this machine (a path or file://). */
export function localRemotePath(url: string, cwd: string): string | undefined {
  if (url.startsWith('file://')) return decodeURIComponent(url.slice('file://'.length));
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return undefined;
  // git reads `host:path` (a colon before any slash) as ssh.
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon !== -1 && (slash === -1 || colon < slash)) return undefined;
  return path.resolve(cwd, url);
}

/**
 * Whether a push to `url` lands in a repository on this machine whose post-receive is
 * trig's: that hook fires the push where it lands, so pre-push must not fire it as well.
 */
function remoteFiresPush(url: string | undefined, options: GitOptions): boolean {
  const dir = url === undefined ? undefined : localRemotePath(url, options.cwd);
  if (!dir || !existsSync(dir)) return false;
  const env = { ...process.env };
  for (const name of gitLocalEnvNames(options)) delete env[name];
  const hooks = gitMaybe(['rev-parse', '--path-format=absolute', '--git-path', 'hooks'], { cwd: dir, env })?.trim();
  return hooks !== undefined && hooks !== '' && isTrigHook(path.resolve(dir, hooks, 'post-receive'));
}

/** Writes the tree of `commit` into a new temporary directory (no .git: the runs see plain files). */
function exportTree(commit: string, options: GitOptions): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-push-'));
  // A private index, so that the (bare) repository's own state is never touched.
  const env = { ...(options.env ?? process.env), GIT_INDEX_FILE: path.join(dir, '.trig-index') };
  try {
    git(['--work-tree', dir, 'read-tree', commit], { cwd: options.cwd, env });
    git(['--work-tree', dir, 'checkout-index', '--all', '--force'], { cwd: options.cwd, env });
  } finally {
    rmSync(env.GIT_INDEX_FILE, { force: true });
  }
  return dir;
}

interface Prepared {
  update: RefUpdate;
  /** Where the definitions belong: the work tree's .harness/, or the bare repository. */
  place: string;
  payload: Record<string, unknown>;
  defs: string[];
  workdir: string;
  cleanup?: () => void;
}

/**
 * What to fire for one ref update: a client fires the work tree's `.harness/`; a server
 * reads `.harness/` from the pushed commit and runs in an export of that commit's tree.
 * Undefined when there are no definitions to read.
 */
function prepare(update: RefUpdate, bare: boolean, repo: string, options: GitOptions): Prepared | undefined {
  const payload = buildPushPayload({ cwd: options.cwd, after: update.after, before: update.before ?? ZERO, ref: update.ref, repo });
  if (!bare) {
    const top = git(['rev-parse', '--show-toplevel'], options).trim();
    const defs = path.join(top, '.harness');
    return existsSync(defs) ? { update, place: defs, payload, defs: [defs], workdir: top } : undefined;
  }
  const commit = String(payload.commitSha);
  if (!git(['ls-tree', '-d', commit, '--', '.harness'], options).trim()) return undefined;
  const workdir = exportTree(commit, options);
  return {
    update,
    place: path.resolve(options.cwd),
    payload,
    defs: [path.join(workdir, '.harness')],
    workdir,
    cleanup: () => rmSync(workdir, { recursive: true, force: true }),
  };
}

/**
 * The body of every installed hook: fires `push` for each ref the hook reports. Failures
 * are reported on stderr; the result says whether any happened, and the caller decides
 * (only pre-push with --block-on-failure lets them change what git does).
 */
export async function runHook(hookArg: string, args: string[], options: RunHookOptions): Promise<boolean> {
  if (!(HOOK_NAMES as readonly string[]).includes(hookArg)) throw new UnknownHookError(`unknown hook "${hookArg}"`);
  const hook = hookArg as HookName;
  // A run that commits or checks out in this repository would start the hooks again.
  if (process.env.TRIG_HOOK_ACTIVE) return false;
  const stdin = STDIN_HOOKS.includes(hook) ? await readStdin() : '';
  const gitOptions: GitOptions = { cwd: process.cwd() };
  // One push runs a definition once: where trig's post-receive receives it, pre-push leaves
  // it to that hook, unless it is there to refuse pushes whose runs fail.
  if (hook === 'pre-push' && !options.blockOnFailure && remoteFiresPush(args[1], gitOptions)) return false;
  let failed = false;
  const fail = (message: string) => {
    failed = true;
    options.io.stderr.write(`trig: ${hook}: ${message}\n`);
  };

  let prepared: Prepared[] = [];
  try {
    const bare = git(['rev-parse', '--is-bare-repository'], gitOptions).trim() === 'true';
    const updates = hookUpdates(hook, args, stdin, gitOptions);
    const repo = updates.length ? repoName(gitOptions) : '';
    for (const update of updates) {
      try {
        const p = prepare(update, bare, repo, gitOptions);
        if (p) prepared.push(p);
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        fail(`${update.ref}: ${error.message}`);
      }
    }
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    fail(error.message);
    prepared = [];
  }
  if (!prepared.length) return failed;

  dropGitLocalEnv(gitOptions);
  process.env.TRIG_HOOK_ACTIVE = hook;
  try {
    const { fire, fireExitCode, presentFire } = await import('../../fire/index.js');
    const style = await styleFor(options.io.stdout);
    // As `trig fire --quiet`: only what failed, since git's own output is what the user reads.
    const presenter = presentFire(options.io, { json: false, explain: false, quiet: true, style });
    const deps: FireDeps = { ...options.deps, runOutput: options.io.stdout, runStyle: style, onPlanned: presenter.planned };
    for (const p of prepared) {
      try {
        const outcome = await fire(
          {
            event: 'push',
            payload: p.payload,
            definitions: p.defs,
            options: { workdir: p.workdir, quiet: true },
            // A ref update is the repository (by name, as the payload has it), the ref and
            // the commit it now names, whichever hook or copy reports it: post-commit then
            // pre-push, or a clone and its server on this machine, run each definition once.
            // Per definition, not per event: the server may hold definitions the clone has not.
            source: 'hook',
            occurrence: `${String(p.payload.repo)} ${p.update.ref} ${String(p.payload.commitSha)}`,
            places: [p.place],
          },
          deps,
        );
        presenter.finished(outcome);
        const code = fireExitCode(outcome);
        if (code !== 0) fail(`${p.update.ref}: a run failed or did not start (trig fire exit status ${code})`);
      } catch (error) {
        // A definition file changed under the hook, say: that ref fails, the others still fire.
        if (!(error instanceof UsageError || error instanceof GitError)) throw error;
        fail(`${p.update.ref}: ${error.message}`);
      }
    }
  } finally {
    for (const p of prepared) p.cleanup?.();
  }
  return failed;
}
