export type Severity = 'error' | 'warning';

/** One problem in a definition file, at a 1-based line and column. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  /** End of the marked span (exclusive column); on the same line as `line` or later. */
  endLine: number;
  endCol: number;
  severity: Severity;
  message: string;
  /** The rule that found it: `syntax`, `schema`, or a semantic rule's name. */
  rule: string;
}

/** A document that was recognised but is not a definition trig checks (template:, environment:, …). */
export interface SkippedDocument {
  file: string;
  line: number;
  col: number;
  kind: string;
  message: string;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule);
}
