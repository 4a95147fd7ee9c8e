import { isScalar } from 'yaml';
import type { ParsedDefinition } from '../../load/load.js';
import { locate, type Span } from '../../load/source.js';
import type { DocPath, TriggerEntry } from '../../load/triggers.js';
import type { Diagnostic, Severity } from '../../shared/diagnostic.js';
import { isRecord } from '../../shared/records.js';

export interface RuleProblem {
  /** Path from the document root, e.g. ['pipeline', 'on', 0, 'push', 'branches', 1]. */
  path: DocPath;
  /** Point at the map key at `path` rather than its value. */
  at?: 'key' | 'value';
  message: string;
  /** Default: error. */
  severity?: Severity;
  /**
   * For a string value: the offsets (into the value) of the part the problem is about,
   * such as one `<+…>` inside a longer string, so the column points at it.
   */
  within?: { start: number; end: number };
}

/** A kind of diagnostic: the `rule` it carries and what it finds. */
export interface DiagnosticKind {
  name: string;
  /**
   * What it finds, as the README's rule table says it (`npm run gen` writes the table from
   * these): a phrase that completes "finds …", in Markdown.
   */
  description: string;
}

/**
 * A semantic check beyond the schema. Rules run on every parsed document, valid against
 * the schema or not, so they must read the document defensively (any value may have any
 * shape).
 */
export interface Rule extends DiagnosticKind {
  check(document: ParsedDefinition, report: (problem: RuleProblem) => void): void;
}

export { isRecord };

/**
 * Every map under `key` in the stages and steps of a definition's body (and the body
 * itself), at any depth, with its path; values that are data (env, with, inputs, on) are
 * not looked into.
 */
export function* mapsUnder(key: string, value: unknown, path: DocPath): Generator<[Record<string, unknown>, DocPath]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* mapsUnder(key, item, [...path, i]);
    return;
  }
  if (!isRecord(value)) return;
  for (const [name, item] of Object.entries(value)) {
    if (name === 'env' || name === 'with' || name === 'inputs' || name === 'on') continue;
    if (name === key && isRecord(item)) yield [item, [...path, name]];
    else yield* mapsUnder(key, item, [...path, name]);
  }
}

/** The entry's filter map's path from the document root: `['pipeline', 'on', 0, 'push']`. */
export function entryPath(document: ParsedDefinition, entry: TriggerEntry): DocPath {
  return document.root ? [document.root, ...entry.path] : entry.path;
}

/**
 * Where a problem is shown. With `within`, the span narrows to that part of the string
 * value, found by searching the scalar's source text: this is exact for plain and
 * quoted scalars and for block scalars, as long as the part is written verbatim (no
 * escape sequence or line folding inside it); otherwise the whole value is marked.
 */
export function problemSpan(document: ParsedDefinition, problem: RuleProblem): Span {
  const whole = locate(document.doc, document.source, problem.path, problem.at);
  if (!problem.within) return whole;
  const node = document.doc.getIn(problem.path, true);
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return whole;
  const value = node.value;
  const { start, end } = problem.within;
  const part = value.slice(start, end);
  if (part === '') return whole;
  const source = document.source.text.slice(node.range[0], node.range[1]);
  // The n-th occurrence in the value is the n-th in the source only when both hold the
  // same number of occurrences; an escape or a fold can make them differ.
  const inValue = occurrences(value, part);
  const inSource = occurrences(source, part);
  const nth = inValue.indexOf(start);
  if (nth < 0 || inValue.length !== inSource.length) return whole;
  const offset = node.range[0] + inSource[nth]!;
  return document.source.span(offset, offset + part.length);
}

function occurrences(text: string, part: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(part); i !== -1; i = text.indexOf(part, i + 1)) found.push(i);
  return found;
}

/** Runs one rule on one document. */
export function runRule(rule: Rule, document: ParsedDefinition): Diagnostic[] {
  const found: Diagnostic[] = [];
  rule.check(document, (problem) => {
    const span = problemSpan(document, problem);
    found.push({ file: document.file, ...span, severity: problem.severity ?? 'error', message: problem.message, rule: rule.name });
  });
  return found;
}
