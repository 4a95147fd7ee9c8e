import { loadFiles, type LoadResult } from '../load/load.js';
import { expandPaths, PathError } from '../load/paths.js';
import { compareDiagnostics } from '../report/diagnostic.js';
import { formatGithub, formatJson, formatText, type ValidationReport } from '../report/diagnostics-format.js';
import { styleFor } from '../report/style.js';
import { validateDocument } from '../validate/validate.js';
import { EXIT, UsageError } from './errors.js';

/** Expands and loads definition paths; missing or unreadable paths are usage errors. */
export function loadDefinitions(paths: readonly string[]): { files: string[]; loaded: LoadResult } {
  let files: string[];
  try {
    files = expandPaths(paths);
  } catch (error) {
    if (error instanceof PathError) throw new UsageError(error.message);
    throw error;
  }
  try {
    return { files, loaded: loadFiles(files) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const file = (error as NodeJS.ErrnoException).path ?? '';
    throw new UsageError(`${file}: cannot read (${code ?? (error as Error).message})`);
  }
}

export async function runValidate(paths: string[], options: { format: 'text' | 'json' | 'github'; strict?: boolean }): Promise<number> {
  const { files, loaded } = loadDefinitions(paths);
  const diagnostics = [...loaded.diagnostics, ...loaded.documents.flatMap(validateDocument)].sort(compareDiagnostics);
  const report: ValidationReport = {
    files: files.length,
    definitions: loaded.documents.length,
    diagnostics,
    skipped: loaded.skipped,
    sourceLine: (file, line) => loaded.sources.get(file)?.line(line) ?? '',
  };
  const output =
    options.format === 'json'
      ? formatJson(report)
      : options.format === 'github'
        ? formatGithub(report)
        : formatText(report, await styleFor(process.stdout));
  process.stdout.write(output);
  const failing = diagnostics.some((d) => d.severity === 'error' || options.strict);
  return failing ? EXIT.problems : EXIT.ok;
}
