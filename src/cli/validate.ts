import { formatGithub, formatJson, formatText, type ValidationReport } from '../report/diagnostics-format.js';
import { EXIT } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { styleFor } from '../shared/style.js';
import { loadDefinitions } from '../validate/definitions.js';

/** loadDefinitions as the commands call it: notices on standard error, the process's environment. */
export function loadForCli(paths: readonly string[], options: { cache?: boolean }, io: Output) {
  return loadDefinitions(paths, { cache: options.cache, env: process.env, notice: (line) => io.stderr.write(`trig: ${line}\n`) });
}

export async function runValidate(
  paths: string[],
  options: { format: 'text' | 'json' | 'github'; strict?: boolean; cache?: boolean },
  io: Output,
): Promise<number> {
  const { files, checked } = await loadForCli(paths, options, io);
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
        : formatText(report, await styleFor(io.stdout));
  io.stdout.write(output);
  const failing = checked.diagnostics.some((d) => d.severity === 'error' || options.strict);
  return failing ? EXIT.problems : EXIT.ok;
}
