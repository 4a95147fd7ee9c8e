import type { Diagnostic, SkippedDocument } from '../shared/diagnostic.js';
import { plural } from '../shared/records.js';
import type { Style } from '../shared/style.js';

export interface ValidationReport {
  files: number;
  definitions: number;
  diagnostics: Diagnostic[];
  skipped: SkippedDocument[];
  /** The source line of a diagnostic, for the excerpt under it; undefined for a file that cannot be read. */
  sourceLine(file: string, line: number): string | undefined;
}

function counts(report: ValidationReport) {
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  return { errors, warnings: report.diagnostics.length - errors };
}

const EXCERPT_WIDTH = 120;

/**
 * The part of a source line to show: all of it, or for a long line (minified YAML, a
 * one-line flow collection) a window around the column, with `…` where it was cut.
 */
export function excerpt(line: string, col: number, width: number): { text: string; col: number; width: number } {
  if (line.length <= EXCERPT_WIDTH) return { text: line, col, width };
  const start = Math.max(0, Math.min(col - 1 - EXCERPT_WIDTH / 2, line.length - EXCERPT_WIDTH));
  const end = Math.min(line.length, start + EXCERPT_WIDTH);
  const before = start > 0 ? '…' : '';
  const text = before + line.slice(start, end) + (end < line.length ? '…' : '');
  const shown = col - start + before.length;
  return { text, col: shown, width: Math.max(1, Math.min(width, end - (col - 1))) };
}

/** `file:line:col: message [rule]`, the source line, and a marker under the span. */
export function formatText(report: ValidationReport, style: Style): string {
  const out: string[] = [];
  for (const d of report.diagnostics) {
    const severity = d.severity === 'warning' ? style.yellow('warning: ') : '';
    out.push(`${style.bold(`${d.file}:${d.line}:${d.col}:`)} ${severity}${d.message} ${style.dim(`[${d.rule}]`)}`);
    const source = report.sourceLine(d.file, d.line);
    if (source === undefined) continue;
    const line = source.replace(/\t/g, ' ');
    const gutter = String(d.line).length;
    const { text, col, width } = excerpt(line, d.col, Math.max(1, (d.endLine === d.line ? d.endCol : line.length + 1) - d.col));
    out.push(`${style.dim(`${d.line} |`)} ${text}`);
    const marker = '^' + '~'.repeat(width - 1);
    out.push(
      `${' '.repeat(gutter)} ${style.dim('|')} ${' '.repeat(col - 1)}${d.severity === 'error' ? style.red(marker) : style.yellow(marker)}`,
    );
  }
  for (const s of report.skipped) {
    out.push(`${s.file}:${s.line}:${s.col}: ${style.cyan('note:')} ${s.message}`);
  }
  const { errors, warnings } = counts(report);
  const checked = `${plural(report.definitions, 'definition')} in ${plural(report.files, 'file')}`;
  out.push(
    errors || warnings
      ? `${errors ? style.red(plural(errors, 'error')) : '0 errors'}, ${plural(warnings, 'warning')} in ${checked}`
      : style.green(`${checked}: no problems`),
  );
  return out.join('\n') + '\n';
}

/** The stable JSON shape documented in the README (`"format": 1`). */
export function formatJson(report: ValidationReport): string {
  const { errors, warnings } = counts(report);
  return (
    JSON.stringify(
      {
        format: 1,
        files: report.files,
        definitions: report.definitions,
        errors,
        warnings,
        diagnostics: report.diagnostics.map((d) => ({
          file: d.file,
          line: d.line,
          column: d.col,
          endLine: d.endLine,
          endColumn: d.endCol,
          severity: d.severity,
          rule: d.rule,
          message: d.message,
        })),
        skipped: report.skipped.map((s) => ({ file: s.file, line: s.line, column: s.col, kind: s.kind, message: s.message })),
      },
      null,
      2,
    ) + '\n'
  );
}

// Workflow commands need %, CR and LF escaped in the message, and also : and , in properties.
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub Actions annotations: `::error file=…,line=…,col=…::message`. */
export function formatGithub(report: ValidationReport): string {
  const out = report.diagnostics.map((d) => {
    const props = `file=${escapeProperty(d.file)},line=${d.line},col=${d.col},endLine=${d.endLine},endColumn=${d.endCol},title=${escapeProperty(`trig ${d.rule}`)}`;
    return `::${d.severity} ${props}::${escapeData(`${d.message} [${d.rule}]`)}`;
  });
  for (const s of report.skipped) out.push(`::notice file=${escapeProperty(s.file)},line=${s.line},col=${s.col}::${escapeData(s.message)}`);
  return out.length ? out.join('\n') + '\n' : '';
}
