import { expandPaths, PathError } from '../load/paths.js';
import { formatGithub, formatJson, formatText, type ValidationReport } from '../report/diagnostics-format.js';
import { styleFor } from '../shared/style.js';
import type { Definition } from '../load/definition.js';
import { ChangedFileError, checkFiles, type CheckedDefinition, type CheckResult } from '../validate/check.js';
import { EXIT, UsageError } from '../shared/errors.js';

// Said once per process, however many times the definitions are checked (a git hook
// fires once per pushed ref).
const cacheWarnings = new Set<string>();
function warnAboutCache(message: string): void {
  if (cacheWarnings.has(message)) return;
  cacheWarnings.add(message);
  process.stderr.write(`trig: ${message}\n`);
}

/**
 * Expands, loads and validates definition paths. A path that names nothing is a usage
 * error; a file that cannot be read is reported with the others' results (see checkFiles).
 */
export async function checkDefinitions(paths: readonly string[], options: { cache?: boolean }): Promise<{ files: string[]; checked: CheckResult }> {
  let files: string[];
  try {
    const expanded = await expandPaths(paths);
    files = expanded.files;
    for (const { file, reason } of expanded.skipped) process.stderr.write(`trig: warning: skipped ${file}: ${reason}\n`);
  } catch (error) {
    if (error instanceof PathError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const checked = await checkFiles(files, { cache: options.cache !== false, env: process.env, warn: warnAboutCache });
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

export async function runValidate(
  paths: string[],
  options: { format: 'text' | 'json' | 'github'; strict?: boolean; cache?: boolean },
): Promise<number> {
  const { files, checked } = await checkDefinitions(paths, options);
  const report: ValidationReport = {
    files: files.length,
    definitions: checked.definitions.length,
    diagnostics: checked.diagnostics,
    skipped: checked.skipped,
    sourceLine: checked.line,
  };
  const output =
    options.format === 'json'
      ? formatJson(report)
      : options.format === 'github'
        ? formatGithub(report)
        : formatText(report, await styleFor(process.stdout));
  process.stdout.write(output);
  const failing = checked.diagnostics.some((d) => d.severity === 'error' || options.strict);
  return failing ? EXIT.problems : EXIT.ok;
}
