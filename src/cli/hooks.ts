import { existsSync } from 'node:fs';
import path from 'node:path';
import { gitMaybe, type GitOptions } from '../integrations/git/git.js';
import { HookInstallError, hookRepo, HookSelectionError, installHooks, selectHooks, uninstallHooks } from '../integrations/git/hooks.js';
import { runHook, UnknownHookError } from '../integrations/git/run-hook.js';
import type { Output } from '../shared/io.js';
import { trigBin } from './cron.js';
import { EXIT, UsageError } from '../shared/errors.js';

function repoOptions(dir: string): GitOptions {
  const cwd = path.resolve(dir);
  if (!existsSync(cwd)) throw new UsageError(`--repo ${dir}: no such directory`);
  if (gitMaybe(['rev-parse', '--git-dir'], { cwd }) === undefined) throw new UsageError(`${cwd} is not a git repository`);
  return { cwd };
}

export async function runHooksInstall(options: { repo: string; blockOnFailure?: boolean; hooks?: string }, io: Output): Promise<number> {
  const repo = hookRepo(repoOptions(options.repo));
  let hooks;
  try {
    hooks = options.hooks === undefined ? undefined : selectHooks(repo, options.hooks);
  } catch (error) {
    if (error instanceof HookSelectionError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const results = installHooks(repo, {
      node: process.execPath,
      trig: trigBin(),
      blockOnFailure: Boolean(options.blockOnFailure),
      ...(hooks ? { hooks } : {}),
    });
    for (const r of results) {
      const note = r.change === 'chained' ? ` (the existing hook was moved to ${path.basename(r.file)}.trig-chained and runs first)` : '';
      io.stdout.write(`${r.hook}: ${r.change}${note}\n`);
    }
    io.stdout.write(`hooks directory: ${repo.hooksDir}\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof HookInstallError) {
      io.stderr.write(`trig: ${error.message}\n`);
      return EXIT.problems;
    }
    throw error;
  }
}

export async function runHooksUninstall(options: { repo: string }, io: Output): Promise<number> {
  const repo = hookRepo(repoOptions(options.repo));
  for (const r of uninstallHooks(repo)) {
    const note =
      r.change === 'foreign' ? ' (not written by trig; left alone)' : r.change === 'restored' ? ' (the hook trig had kept is back)' : '';
    io.stdout.write(`${r.hook}: ${r.change}${note}\n`);
  }
  return EXIT.ok;
}

/** `trig hooks run <hook>`: what the installed hook scripts call. */
export async function runHookCommand(hook: string, args: string[], options: { blockOnFailure?: boolean }, io: Output): Promise<number> {
  const { processFireDeps } = await import('./fire.js');
  let failed: boolean;
  try {
    failed = await runHook(hook, args, { deps: processFireDeps(io, { cache: true }), io, blockOnFailure: Boolean(options.blockOnFailure) });
  } catch (error) {
    if (error instanceof UnknownHookError) throw new UsageError(error.message);
    throw error;
  }
  // Only pre-push, and only when asked, lets a failed run change what git does.
  return failed && hook === 'pre-push' && options.blockOnFailure ? EXIT.problems : EXIT.ok;
}
