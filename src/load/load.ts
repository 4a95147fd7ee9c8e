import path from 'node:path';
import { isCollection, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node, type YAMLError } from 'yaml';
import { eventSpec } from '../catalog/events.js';
import { isPatternFilter } from '../catalog/filter-kinds.js';
import type { Diagnostic, SkippedDocument } from '../shared/diagnostic.js';
import { locate, SourceText } from './source.js';
import { isRecord } from '../shared/records.js';
import { describeDefinition, type Definition } from './definition.js';

/** A definition document as parsed, with the YAML nodes that locate its problems. */
export interface ParsedDefinition extends Definition {
  doc: Document;
  source: SourceText;
}

export interface LoadResult {
  documents: ParsedDefinition[];
  skipped: SkippedDocument[];
  /** YAML syntax errors; a document with one is not checked further. */
  diagnostics: Diagnostic[];
}

// Kinds of the upstream spec (and GitHub workflows) that share the file format but are
// not definitions trig runs: recognised so that they are skipped, not reported.
const OTHER_KINDS: Record<string, string> = {
  template: 'template',
  action: 'template',
  environment: 'environment',
  service: 'service',
  infrastructure: 'infrastructure',
  inputset: 'input set',
  jobs: 'GitHub Actions workflow',
};

function otherKind(value: Record<string, unknown>): string | undefined {
  if ('pipeline' in value || 'agent' in value) return undefined;
  for (const key of Object.keys(value)) if (key in OTHER_KINDS) return OTHER_KINDS[key];
  return undefined;
}

// The parser's messages describe its own state; these say what to fix.
const SYNTAX_HINTS: Record<string, string> = {
  MULTILINE_IMPLICIT_KEY: 'this value runs into the lines below as if they were a key: check their indentation',
  BLOCK_AS_IMPLICIT_KEY: 'this value runs into the lines below as if they were a key: check their indentation',
  TAB_AS_INDENT: 'tabs cannot indent YAML; use spaces',
};

function syntaxMessage(error: YAMLError, text: string): string {
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^[^:\n]*/.exec(text.slice(error.pos[0]))?.[0].trim();
    return key ? `duplicate key "${key}"` : 'duplicate key';
  }
  const first = error.message.split('\n')[0]!;
  // The parser recurses per level of nesting; a hostile document can exhaust the stack.
  if (/Maximum call stack size exceeded/.test(first)) return 'the document nests too deeply to read';
  return SYNTAX_HINTS[error.code] ?? first.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Aliases that cannot become plain data: one without an anchor before it, and one inside
 * the very node its anchor names (`a: &a [*a]`), which would make the data contain itself
 * and every stage that walks it run forever.
 */
function aliasProblems(doc: Document, source: SourceText): { span: ReturnType<SourceText['span']>; message: string }[] {
  const problems: { span: ReturnType<SourceText['span']>; message: string }[] = [];
  visit(doc, {
    Alias(_key, alias, path) {
      const [start, end] = alias.range ?? [0, 1];
      const target = alias.resolve(doc);
      if (!target) {
        problems.push({ span: source.span(start, end), message: `the alias *${alias.source} has no anchor &${alias.source} before it` });
      } else if (isCollection(target) && path.includes(target as Node)) {
        problems.push({
          span: source.span(start, end),
          message: `the alias *${alias.source} is inside the node its anchor &${alias.source} names: the value would contain itself`,
        });
      }
    },
  });
  return problems;
}

/** Parses one file's text into its documents, with the YAML nodes that locate problems. */
export function loadText(file: string, text: string): LoadResult {
  const into: LoadResult = { documents: [], skipped: [], diagnostics: [] };
  const source = new SourceText(file, text);
  // YAML 1.2's core schema whatever the document's %YAML directive: definitions are plain
  // data, and tags such as !!binary, !!set or !!timestamp are reported (below), not
  // turned into values no stage after this one expects.
  const docs = parseAllDocuments(text, {
    lineCounter: source.lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    schema: 'core',
    resolveKnownTags: false,
  });
  if (!Array.isArray(docs)) return into; // an empty stream holds no document
  const base = path.basename(file).replace(/\.ya?ml$/, '');
  const nonEmpty = docs.filter((d) => d.contents !== null || d.errors.length);
  for (const [index, doc] of nonEmpty.entries()) {
    if (doc.errors.length) {
      const seen = new Set<number>();
      for (const error of doc.errors) {
        const [start, end] = error.pos;
        // The parser often reports one mistake several times at one place; once is enough.
        if (seen.has(start)) continue;
        seen.add(start);
        const span = source.span(start, Math.max(end, start + 1));
        const endCol = span.line === span.endLine ? span.endCol : span.col + 1;
        into.diagnostics.push({
          file,
          ...span,
          endLine: span.line,
          endCol,
          severity: 'error',
          message: syntaxMessage(error, source.text),
          rule: 'syntax',
        });
      }
      continue;
    }
    const problems = [
      ...doc.warnings
        .filter((warning) => warning.code === 'TAG_RESOLVE_FAILED')
        .map((warning) => {
          const [start, end] = warning.pos;
          const tag = source.text.slice(start, end);
          return {
            span: source.span(start, Math.max(end, start + 1)),
            message: `unsupported tag ${tag}: definitions hold plain strings, numbers, booleans, lists and maps; remove the tag`,
          };
        }),
      ...aliasProblems(doc, source),
    ];
    if (problems.length) {
      for (const { span, message } of problems) into.diagnostics.push({ file, ...span, severity: 'error', message, rule: 'syntax' });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // The parser refuses to expand an alias bomb ("billion laughs") into plain data.
      const span = locate(doc, source, []);
      const message = /alias/i.test(String((error as Error).message))
        ? 'the document expands aliases too many times to read (a guard against alias bombs)'
        : `the document cannot be read: ${(error as Error).message}`;
      into.diagnostics.push({ file, ...span, severity: 'error', message, rule: 'syntax' });
      continue;
    }
    // The spec's samples include snippets: a bare list of steps is never a definition.
    const kind = isRecord(value) ? otherKind(value) : Array.isArray(value) ? 'step list' : undefined;
    if (kind) {
      const span = locate(doc, source, []);
      into.skipped.push({
        file,
        line: span.line,
        col: span.col,
        kind,
        message: `skipped ${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind} document: trig checks pipeline and agent definitions`,
      });
      continue;
    }
    const described = describeDefinition(file, index, base, value);
    patternsAsWritten(described, doc, source);
    const declared = typeof described.body?.name === 'string' && described.body.name.trim() ? described.body.name : undefined;
    const name = declared ?? (nonEmpty.length > 1 ? `${base}#${index + 1}` : base);
    into.documents.push({ ...described, name, doc, source });
  }
  return into;
}

/**
 * A filter pattern written as a YAML number (`branches: [2]`, `tags: [1.10]`) means the
 * text written, not the number YAML reads (`1.1`): its source text replaces it in the
 * definition's data, which validation and matching read alike. The `numeric-pattern`
 * rule warns to quote it, reading the YAML node, which stays a number.
 */
function patternsAsWritten(definition: Definition, doc: Document, source: SourceText): void {
  if (!definition.root) return;
  const asWritten = (node: unknown): string | undefined =>
    isScalar(node) && typeof node.value === 'number' && node.range ? source.text.slice(node.range[0], node.range[1]) : undefined;
  for (const entry of definition.entries) {
    const spec = eventSpec(entry.event);
    for (const key of Object.keys(entry.filters)) {
      if (!isPatternFilter(spec?.filters[key])) continue;
      const node = doc.getIn([definition.root, ...entry.path, key], true) as Node | undefined;
      const value = entry.filters[key];
      if (isSeq(node) && Array.isArray(value)) {
        node.items.forEach((item, i) => {
          const text = asWritten(item);
          if (text !== undefined) value[i] = text;
        });
      } else {
        const text = asWritten(node);
        if (text !== undefined) entry.filters[key] = text;
      }
    }
  }
}
