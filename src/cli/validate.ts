import { formatGithub, formatJson, formatText, type ValidationReport } from '../report/diagnostics-format.js';
import { EXIT } from '../shared/errors.js';
import { noticesTo, type Output } from '../shared/io.js';
import { styleFor } from '../shared/style.js';
import { loadDefinitions } from '../validate/definitions.js';

export async function runValidate(
  paths: string[],
  options: { format: 'text' | 'json' | 'github'; strict?: boolean; cache?: boolean },
  io: Output,
): Promise<number> {
  const { files, checked } = await loadDefinitions(paths, { cache: options.cache, env: process.env, notice: noticesTo(io.stderr) });
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
