import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { git, gitMaybe, GitError, type GitOptions } from '../integrations/git/git.js';
import { HOOK_NAMES, hookUpdates, STDIN_HOOKS, type HookName, type RefUpdate } from '../integrations/git/hook-events.js';
import { HookInstallError, hookRepo, installHooks, uninstallHooks } from '../integrations/git/hooks.js';
import { buildPushPayload, repoName } from '../integrations/git/payload.js';
import { trigBin } from './cron.js';
import { EXIT, UsageError } from './errors.js';
import type { FireOptions } from './fire.js';

function repoOptions(dir: string): GitOptions {
  const cwd = path.resolve(dir);
  if (!existsSync(cwd)) throw new UsageError(`--repo ${dir}: no such directory`);
  if (gitMaybe(['rev-parse', '--git-dir'], { cwd }) === undefined) throw new UsageError(`${cwd} is not a git repository`);
  return { cwd };
}

export async function runHooksInstall(options: { repo: string; blockOnFailure?: boolean }): Promise<number> {
  const repo = hookRepo(repoOptions(options.repo));
  try {
    const results = installHooks(repo, { node: process.execPath, trig: trigBin(), blockOnFailure: Boolean(options.blockOnFailure) });
    for (const r of results) {
      const note = r.change === 'chained' ? ` (the existing hook was moved to ${path.basename(r.file)}.trig-chained and runs first)` : '';
      process.stdout.write(`${r.hook}: ${r.change}${note}\n`);
    }
    process.stdout.write(`hooks directory: ${repo.hooksDir}\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof HookInstallError) {
      process.stderr.write(`trig: ${error.message}\n`);
      return EXIT.problems;
    }
    throw error;
  }
}

export async function runHooksUninstall(options: { repo: string }): Promise<number> {
  const repo = hookRepo(repoOptions(options.repo));
  for (const r of uninstallHooks(repo)) {
    const note = r.change === 'foreign' ? ' (not written by trig; left alone)' : r.change === 'restored' ? ' (the hook trig had kept is back)' : '';
    process.stdout.write(`${r.hook}: ${r.change}${note}\n`);
  }
  return EXIT.ok;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const ZERO = '0000000000000000000000000000000000000000';

/**
 * git exports variables such as GIT_DIR and GIT_INDEX_FILE to its hooks; a run's script
 * that calls git in another directory (the exported tree of a push) must not inherit them.
 */
function dropGitLocalEnv(options: GitOptions): void {
  const names = gitMaybe(['rev-parse', '--local-env-vars'], options)?.split('\n').filter(Boolean) ?? ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE'];
  for (const name of names) delete process.env[name];
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
    return existsSync(defs) ? { update, payload, defs: [defs], workdir: top } : undefined;
  }
  const commit = String(payload.commitSha);
  if (!git(['ls-tree', '-d', commit, '--', '.harness'], options).trim()) return undefined;
  const workdir = exportTree(commit, options);
  return { update, payload, defs: [path.join(workdir, '.harness')], workdir, cleanup: () => rmSync(workdir, { recursive: true, force: true }) };
}

/**
 * The body of every installed hook: fires `push` for each ref the hook reports. Failures
 * are reported on stderr; the exit status is non-zero only for pre-push with
 * --block-on-failure, so that trig never changes what git does unless asked to.
 */
export async function runHook(hookArg: string, args: string[], options: { blockOnFailure?: boolean }): Promise<number> {
  if (!(HOOK_NAMES as readonly string[]).includes(hookArg)) throw new UsageError(`unknown hook "${hookArg}"`);
  const hook = hookArg as HookName;
  // A run that commits or checks out in this repository would start the hooks again.
  if (process.env.TRIG_HOOK_ACTIVE) return EXIT.ok;
  const stdin = STDIN_HOOKS.includes(hook) ? await readStdin() : '';
  const block = hook === 'pre-push' && Boolean(options.blockOnFailure);
  const gitOptions: GitOptions = { cwd: process.cwd() };
  let failed = false;
  const fail = (message: string) => {
    failed = true;
    process.stderr.write(`trig: ${hook}: ${message}\n`);
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
  if (!prepared.length) return failed && block ? EXIT.problems : EXIT.ok;

  dropGitLocalEnv(gitOptions);
  process.env.TRIG_HOOK_ACTIVE = hook;
  const { runFire } = await import('./fire.js');
  try {
    for (const p of prepared) {
      const fireOptions: FireOptions = {
        event: 'push',
        payloadObject: p.payload,
        defs: p.defs,
        input: [],
        quiet: true,
        workdir: p.workdir,
        containerRuntime: 'docker',
        concurrency: '4',
      };
      try {
        const code = await runFire(fireOptions);
        if (code !== EXIT.ok) fail(`${p.update.ref}: a run failed or did not start (trig fire exit status ${code})`);
      } catch (error) {
        if (!(error instanceof UsageError) && !(error instanceof GitError)) throw error;
        fail(`${p.update.ref}: ${error.message}`);
      }
    }
  } finally {
    for (const p of prepared) p.cleanup?.();
  }
  return failed && block ? EXIT.problems : EXIT.ok;
}
