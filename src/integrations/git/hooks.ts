// Installs and removes trig's git hooks. A hook trig did not write is never overwritten:
// it is moved aside to `<hook>.trig-chained` (a rename keeps its bytes and mode), trig's
// hook runs it first, and uninstall renames it back.

import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { shQuote } from '../../shared/shell.js';
import { git, type GitOptions } from './git.js';
import { suggest } from '../../shared/suggest.js';
import {
  CLIENT_HOOKS,
  DEFAULT_CLIENT_HOOKS,
  DEFAULT_SERVER_HOOKS,
  HOOK_NAMES,
  RETIRED_HOOKS,
  SERVER_HOOKS,
  STDIN_HOOKS,
  type HookName,
  type InstallableHook,
} from './hook-events.js';

/** The line that tells trig's hooks from anyone else's. */
export const HOOK_MARK = '# trig-hook: written by `trig hooks install`';
export const CHAINED_SUFFIX = '.trig-chained';

export class HookInstallError extends Error {}

/** A `--hooks` list that names a hook trig cannot install in this repository. */
export class HookSelectionError extends Error {}

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

/** The hooks trig can install in the repository: client hooks in a clone, post-receive in a bare one. */
export function hooksFor(repo: HookRepo): readonly InstallableHook[] {
  return repo.bare ? SERVER_HOOKS : CLIENT_HOOKS;
}

export function defaultHooks(repo: HookRepo): readonly InstallableHook[] {
  return repo.bare ? DEFAULT_SERVER_HOOKS : DEFAULT_CLIENT_HOOKS;
}

/** The hooks a `--hooks a,b` list names, checked against what the repository takes. */
export function selectHooks(repo: HookRepo, list: string): InstallableHook[] {
  const allowed = hooksFor(repo);
  const where = repo.bare ? `a bare repository takes ${allowed.join(', ')}` : `a clone takes ${allowed.join(', ')}`;
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!names.length) throw new HookSelectionError(`--hooks: name at least one hook (${where})`);
  for (const name of names) {
    if ((allowed as readonly string[]).includes(name)) continue;
    if ((RETIRED_HOOKS as readonly string[]).includes(name)) {
      throw new HookSelectionError(`--hooks: trig does not install ${name}: a branch switch is not a push (${where})`);
    }
    if ((HOOK_NAMES as readonly string[]).includes(name))
      throw new HookSelectionError(`--hooks: ${name} does not go in ${repo.bare ? 'a bare repository' : 'a clone'} (${where})`);
    const guess = suggest(name, [...allowed]);
    throw new HookSelectionError(`--hooks: unknown hook "${name}"${guess ? `; did you mean "${guess}"?` : ''} (${where})`);
  }
  return [...new Set(names)] as InstallableHook[];
}

/**
 * Writes trig's hooks for `hooks` (the repository's defaults when absent) and removes
 * trig's other hooks, so that the hooks installed are exactly the chosen ones. Running it
 * again with the same options changes nothing.
 */
export function installHooks(repo: HookRepo, options: HookScriptOptions & { hooks?: readonly InstallableHook[] }): HookResult[] {
  mkdirSync(repo.hooksDir, { recursive: true });
  const chosen = options.hooks ?? defaultHooks(repo);
  const results: HookResult[] = [];
  for (const hook of HOOK_NAMES) {
    if (!chosen.includes(hook as InstallableHook)) {
      const removed = removeHook(repo, hook);
      if (removed && removed.change !== 'foreign' && removed.change !== 'absent') results.push(removed);
      continue;
    }
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

/** Removes trig's `hook` and puts back the hook it chained; undefined when there is nothing to say. */
function removeHook(repo: HookRepo, hook: HookName): HookResult | undefined {
  const file = path.join(repo.hooksDir, hook);
  const chained = file + CHAINED_SUFFIX;
  const installable = (hooksFor(repo) as readonly string[]).includes(hook);
  if (exists(file) && !isTrigHook(file)) {
    return installable || exists(chained) ? { hook, file, change: 'foreign' } : undefined;
  }
  const ours = exists(file);
  if (ours) unlinkSync(file);
  if (exists(chained)) {
    renameSync(chained, file);
    return { hook, file, change: 'restored' };
  }
  if (ours) return { hook, file, change: 'removed' };
  return installable ? { hook, file, change: 'absent' } : undefined;
}

/** Removes trig's hooks and puts back the hooks they chained; leaves anyone else's hooks alone. */
export function uninstallHooks(repo: HookRepo): HookResult[] {
  // A repository may have been switched between bare and not, or hold hooks an earlier
  // trig installed: look at every hook trig ever writes.
  return HOOK_NAMES.flatMap((hook) => removeHook(repo, hook) ?? []);
}
