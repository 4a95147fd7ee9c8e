// Installs and removes trig's git hooks. A hook trig did not write is never overwritten:
// it is moved aside to `<hook>.trig-chained` (a rename keeps its bytes and mode), trig's
// hook runs it first, and uninstall renames it back.

import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { shQuote } from '../shell.js';
import { git, type GitOptions } from './git.js';
import { CLIENT_HOOKS, SERVER_HOOKS, STDIN_HOOKS, type HookName } from './hook-events.js';

/** The line that tells trig's hooks from anyone else's. */
export const HOOK_MARK = '# trig-hook: written by `trig hooks install`';
export const CHAINED_SUFFIX = '.trig-chained';

export class HookInstallError extends Error {}

export interface HookScriptOptions {
  /** The node binary (absolute): hooks may run without the user's PATH (GUI clients, servers). */
  node: string;
  /** trig's bin/trig (absolute). */
  trig: string;
  /** Whether a failed run refuses the push (pre-push only). */
  blockOnFailure?: boolean;
}

/** The text of trig's hook script for `hook`. */
export function hookScript(hook: HookName, options: HookScriptOptions): string {
  const node = shQuote(options.node);
  const trig = shQuote(options.trig);
  const pre = hook.startsWith('pre-');
  const block = hook === 'pre-push' && options.blockOnFailure;
  const withStdin = STDIN_HOOKS.includes(hook);
  const input = withStdin ? ' <"$input"' : '';
  const out = [
    '#!/bin/sh',
    HOOK_MARK,
    `# It fires trig's \`push\` event; \`trig hooks uninstall\` removes it and puts back the`,
    `# hook it moved aside to ${hook}${CHAINED_SUFFIX}, which runs first, with the same arguments${withStdin ? ' and input' : ''}.`,
    `chained="$0${CHAINED_SUFFIX}"`,
    'status=0',
  ];
  if (withStdin) {
    // The refs come on standard input, which both hooks need: keep a copy.
    out.push(
      'if ! input=$(mktemp "${TMPDIR:-/tmp}/trig-hook.XXXXXX"); then',
      `  echo "trig: cannot create a temporary file; trig's ${hook} hook skipped" >&2`,
      '  if [ -x "$chained" ]; then exec "$chained" "$@"; fi',
      '  exit 0',
      'fi',
      `trap 'rm -f "$input"' EXIT`,
      'cat >"$input"',
    );
  }
  out.push(
    'if [ -x "$chained" ]; then',
    `  "$chained" "$@"${input}`,
    '  status=$?',
    // A failing pre-* hook stops git; firing for an operation that will not happen is wrong.
    ...(pre ? ['  [ "$status" -eq 0 ] || exit "$status"'] : []),
    'fi',
    `if [ -x ${node} ] && [ -f ${trig} ]; then`,
    block
      ? `  ${node} ${trig} hooks run ${hook} --block-on-failure -- "$@"${input} || exit 1`
      : // Never let trig's outcome change git's: failures are reported, not returned.
        `  ${node} ${trig} hooks run ${hook} -- "$@"${input} || :`,
    'else',
    `  echo "trig: ${options.trig.replace(/["$`\\]/g, '\\$&')} or ${options.node.replace(/["$`\\]/g, '\\$&')} is gone; run trig hooks install again" >&2`,
    'fi',
    'exit "$status"',
  );
  return out.map((l) => `${l}\n`).join('');
}

export interface HookRepo {
  /** Absolute hooks directory (core.hooksPath respected). */
  hooksDir: string;
  bare: boolean;
}

/** Where the repository's hooks live, and whether it is bare (server hooks) or not (client hooks). */
export function hookRepo(options: GitOptions): HookRepo {
  const hooks = git(['rev-parse', '--path-format=absolute', '--git-path', 'hooks'], options).trim();
  const bare = git(['rev-parse', '--is-bare-repository'], options).trim() === 'true';
  return { hooksDir: path.resolve(options.cwd, hooks), bare };
}

export function isTrigHook(file: string): boolean {
  try {
    if (!lstatSync(file).isFile()) return false;
    return readFileSync(file, 'utf8').split('\n', 3).includes(HOOK_MARK);
  } catch {
    return false;
  }
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

export type HookChange = 'installed' | 'updated' | 'unchanged' | 'chained' | 'removed' | 'restored' | 'absent' | 'foreign';

export interface HookResult {
  hook: HookName;
  file: string;
  change: HookChange;
}

export function hooksFor(repo: HookRepo): readonly HookName[] {
  return repo.bare ? SERVER_HOOKS : CLIENT_HOOKS;
}

/** Writes trig's hooks; running it again with the same options changes nothing. */
export function installHooks(repo: HookRepo, options: HookScriptOptions): HookResult[] {
  mkdirSync(repo.hooksDir, { recursive: true });
  const results: HookResult[] = [];
  for (const hook of hooksFor(repo)) {
    const file = path.join(repo.hooksDir, hook);
    const chained = file + CHAINED_SUFFIX;
    const text = hookScript(hook, options);
    let change: HookChange = 'installed';
    if (isTrigHook(file)) {
      if (readFileSync(file, 'utf8') === text && (lstatSync(file).mode & 0o111) !== 0) {
        results.push({ hook, file, change: 'unchanged' });
        continue;
      }
      change = 'updated';
    } else if (exists(file)) {
      if (exists(chained)) {
        throw new HookInstallError(`${file} was not written by trig and ${path.basename(chained)} exists too; move one of them away first`);
      }
      renameSync(file, chained);
      change = 'chained';
    }
    writeFileSync(file, text);
    // chmod after writing: the mode given to writeFile is filtered by the umask.
    chmodSync(file, 0o755);
    results.push({ hook, file, change });
  }
  return results;
}

/** Removes trig's hooks and puts back the hooks they chained; leaves anyone else's hooks alone. */
export function uninstallHooks(repo: HookRepo): HookResult[] {
  const results: HookResult[] = [];
  // A repository may have been switched between bare and not: look at every hook trig writes.
  for (const hook of [...CLIENT_HOOKS, ...SERVER_HOOKS]) {
    const file = path.join(repo.hooksDir, hook);
    const chained = file + CHAINED_SUFFIX;
    if (exists(file) && !isTrigHook(file)) {
      if (hooksFor(repo).includes(hook) || exists(chained)) results.push({ hook, file, change: 'foreign' });
      continue;
    }
    const ours = exists(file);
    if (ours) unlinkSync(file);
    if (exists(chained)) {
      renameSync(chained, file);
      results.push({ hook, file, change: 'restored' });
    } else if (ours) {
      results.push({ hook, file, change: 'removed' });
    } else if (hooksFor(repo).includes(hook)) {
      results.push({ hook, file, change: 'absent' });
    }
  }
  return results;
}
