// The definitions a command works on: paths expanded, files loaded and checked. Shared by
// `trig validate`, `trig fire`, `trig cron` and the git hooks.

import type { Definition } from '../load/definition.js';
import { expandPaths, PathError } from '../load/paths.js';
import { UsageError } from '../shared/errors.js';
import { ChangedFileError, checkFiles, type CheckedDefinition, type CheckResult } from './check.js';

export interface LoadDefinitionsOptions {
  /** Keep and reuse results (see cache.ts); false with --no-cache. */
  cache?: boolean;
  env: NodeJS.ProcessEnv;
  /** A line for the user: a skipped file (`warning: skipped …`), or why the check cache is not used. */
  notice(line: string): void;
}

// Said once per process, however many times the definitions are checked (a git hook
// fires once per pushed ref).
const cacheWarnings = new Set<string>();

/**
 * Expands, loads and validates definition paths. A path that names nothing is a usage
 * error; a file that cannot be read is reported with the others' results (see checkFiles).
 */
export async function loadDefinitions(
  paths: readonly string[],
  options: LoadDefinitionsOptions,
): Promise<{ files: string[]; checked: CheckResult }> {
  let files: string[];
  try {
    const expanded = await expandPaths(paths);
    files = expanded.files;
    for (const { file, reason } of expanded.skipped) options.notice(`warning: skipped ${file}: ${reason}`);
  } catch (error) {
    if (error instanceof PathError) throw new UsageError(error.message);
    throw error;
  }
  const warn = (message: string) => {
    if (cacheWarnings.has(message)) return;
    cacheWarnings.add(message);
    options.notice(message);
  };
  try {
    const checked = await checkFiles(files, { cache: options.cache !== false, env: options.env, warn });
    return { files, checked };
  } catch (error) {
    throw asUsageError(error);
  }
}

/** The whole document of a checked definition; a file gone or changed since is a usage error. */
export async function readDocument(checked: CheckResult, definition: CheckedDefinition): Promise<Definition> {
  try {
    return await checked.document(definition);
  } catch (error) {
    throw asUsageError(error);
  }
}

function asUsageError(error: unknown): unknown {
  if (error instanceof ChangedFileError) return new UsageError(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  if (!code) return error;
  return new UsageError(`${(error as NodeJS.ErrnoException).path ?? ''}: cannot read (${code})`);
}
