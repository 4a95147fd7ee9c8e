// Harness-style `<+…>` expressions, the language: finding them in strings and parsing
// the references they hold. Looking the references up (resolve/expressions.ts) is
// separate, so validate can check expressions with no event at hand.
//
// trig only evaluates plain references (`<+trigger.payload.commits.0.id>`,
// `<+inputs.name>`, `<+secrets.getValue("id")>`). Everything else Harness
// understands (method calls, JEXL operators, nested expressions) is only
// accepted for namespaces that Harness resolves at run time, where trig
// leaves the text untouched anyway.

import { editDistance } from '../shared/suggest.js';

export type ExpressionRef =
  | { namespace: 'trigger'; path: string[] }
  | { namespace: 'inputs'; path: string[] }
  | { namespace: 'secrets'; path: string[]; secretId?: string }
  | { namespace: string; path: string[] };

export interface ScannedExpression {
  /** Offset of "<+". */
  start: number;
  /** Offset just after the closing ">" (or the end of the broken fragment). */
  end: number;
  raw: string;
  ref?: ExpressionRef;
  error?: string;
  /**
   * Set when the body is more than a plain reference (method call, operator,
   * nested expression) in a namespace Harness resolves at run time; `ref.path`
   * then holds only the plain prefix.
   */
  complex?: boolean;
}

/** Namespaces trig can fill in itself. */
export const RESOLVABLE_NAMESPACES: readonly string[] = ['trigger', 'inputs', 'secrets', 'eventPayload'];

/** Namespaces Harness fills in while a pipeline runs; trig recognises them but cannot resolve them. */
export const RUNTIME_NAMESPACES: readonly string[] = [
  'account',
  'org',
  'project',
  'pipeline',
  'stage',
  'step',
  'steps',
  'execution',
  'codebase',
  'env',
  'service',
  'serviceVariables',
  'infra',
  'artifact',
  'artifacts',
  'manifest',
  'manifests',
  'configFile',
  'fileStore',
  'matrix',
  'strategy',
  'repeat',
  'variable',
  'variables',
  'exportedVariables',
  'input',
];

export const KNOWN_NAMESPACES: readonly string[] = [...RESOLVABLE_NAMESPACES, ...RUNTIME_NAMESPACES];

export type NamespaceKind = 'resolvable' | 'runtime' | 'unknown';

export function namespaceKind(namespace: string): NamespaceKind {
  if (RESOLVABLE_NAMESPACES.includes(namespace)) return 'resolvable';
  if (RUNTIME_NAMESPACES.includes(namespace)) return 'runtime';
  return 'unknown';
}

/** Closest known namespace for a probable typo (`triger` → `trigger`), if any is close enough. */
export function suggestNamespace(namespace: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of KNOWN_NAMESPACES) {
    const d = editDistance(namespace.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = known;
    }
  }
  // Beyond two edits the "suggestion" is usually an unrelated word.
  return bestDistance <= Math.min(2, Math.max(1, Math.floor(namespace.length / 3))) ? best : undefined;
}

// ---------------------------------------------------------------------------
// Scanning

/**
 * How deeply `<+…>` may nest. Harness nests a level or two (`<+<+pipeline.name>.toLowerCase()>`);
 * reading nested expressions level by level costs a pass over the text and a stack frame
 * per level, so a hostile text nested thousands deep is refused as a whole instead.
 */
export const MAX_EXPRESSION_NESTING = 16;

/** An expression's text as a message quotes it: a very long one is cut. */
function quoted(raw: string): string {
  return raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
}

/**
 * Finds every `<+…>` in `text`, in order. Nested `<+…>` inside an expression
 * belong to the outer one. Quotes only delimit strings inside parentheses or
 * brackets (`getValue("a>b")`, `['X-Header']`), so a stray apostrophe in a
 * path cannot swallow the closing ">".
 */
export function scanExpressions(text: string): ScannedExpression[] {
  const found: ScannedExpression[] = [];
  let pos = 0;
  for (;;) {
    const start = text.indexOf('<+', pos);
    if (start < 0) break;
    const { end, deepest } = findClose(text, start);
    if (deepest > MAX_EXPRESSION_NESTING) {
      // The whole nest is one problem, closed or not: every "<+" after an unclosed one
      // counts as nested in it, so text with many unclosed ones ends up here too, read once.
      const stop = end < 0 ? text.length : end;
      const raw = text.slice(start, stop);
      found.push({ start, end: stop, raw, error: `expression nested more than ${MAX_EXPRESSION_NESTING} levels deep: "${quoted(raw)}"` });
      pos = stop;
      continue;
    }
    if (end < 0) {
      // Cut the broken fragment at whitespace or the next "<+" so that later,
      // well-formed expressions on the same line are still found.
      let stop = start + 2;
      while (stop < text.length && !/\s/.test(text[stop]!) && !text.startsWith('<+', stop)) stop++;
      const raw = text.slice(start, stop);
      found.push({ start, end: stop, raw, error: `unterminated expression "${raw}": add the closing ">"` });
      pos = stop;
      continue;
    }
    const raw = text.slice(start, end);
    found.push({ start, end, raw, ...parseBody(raw) });
    pos = end;
  }
  return found;
}

/**
 * Offset just past the ">" closing the `<+` at `start` (-1 when nothing closes it), and
 * the deepest nesting of `<+` met on the way (1 for a plain expression).
 */
function findClose(text: string, start: number): { end: number; deepest: number } {
  let depth = 1;
  let deepest = 1;
  let groups = 0;
  let i = start + 2;
  while (i < text.length) {
    const c = text[i]!;
    if (text.startsWith('<+', i)) {
      depth++;
      if (depth > deepest) deepest = depth;
      i += 2;
      continue;
    }
    if (groups > 0 && (c === '"' || c === "'")) {
      const close = text.indexOf(c, i + 1);
      if (close < 0) return { end: -1, deepest };
      i = close + 1;
      continue;
    }
    if (c === '(' || c === '[') groups++;
    else if ((c === ')' || c === ']') && groups > 0) groups--;
    else if (c === '>') {
      depth--;
      if (depth === 0) return { end: i + 1, deepest };
    }
    i++;
  }
  return { end: -1, deepest };
}

const IDENT_START = /[A-Za-z_]/;
const SEGMENT_CHAR = /[A-Za-z0-9_-]/;
const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '?', ':', '+', '-', '*', '/', '%'];

function operatorAt(text: string): string | undefined {
  return OPERATORS.find((op) => text.startsWith(op) && !text.startsWith('<+'));
}

type BodyResult = { ref?: ExpressionRef; error?: string; complex?: boolean };

function parseBody(raw: string): BodyResult {
  const body = raw.slice(2, -1).trim();
  if (body === '') {
    return { error: `empty expression "${raw}": write a reference such as <+trigger.branch> or <+inputs.name>` };
  }
  if (body.startsWith('<+')) {
    // Harness evaluates `<+<+pipeline.name>.toLowerCase()>` itself; only
    // nesting that involves trig's own namespaces is a problem.
    const first = scanExpressions(body)[0]!;
    if (first.ref && !first.error && namespaceKind(first.ref.namespace) !== 'resolvable') {
      return { ref: { namespace: first.ref.namespace, path: first.ref.path }, complex: true };
    }
    return { error: `nested expression in "${raw}": trig cannot evaluate expressions built from other expressions` };
  }

  const secret = /^secrets\.getValue\(\s*(?:"([^"]*)"|'([^']*)')\s*\)$/.exec(body);
  if (secret) {
    const secretId = secret[1] ?? secret[2] ?? '';
    if (secretId === '') return { error: `empty secret id in "${raw}": write <+secrets.getValue("my_secret")>` };
    return { ref: { namespace: 'secrets', path: ['getValue'], secretId } };
  }

  let i = 0;
  if (!IDENT_START.test(body[0]!)) {
    return {
      error: `"${raw}" must start with a namespace name such as trigger or inputs, not "${body[0]}"`,
    };
  }
  while (i < body.length && /[A-Za-z0-9_]/.test(body[i]!)) i++;
  const namespace = body.slice(0, i);
  const path: string[] = [];

  // Describes why the plain-reference grammar stopped at `at`; runtime
  // namespaces tolerate Harness-only syntax, trig's own namespaces do not.
  const stop = (at: number, reason: string): BodyResult => {
    const c = body[at]!;
    const next = body.slice(at).trimStart();
    const operator = operatorAt(next);
    const nested = body.startsWith('<+', at);
    const harnessSyntax = c === '(' || nested || operator !== undefined;
    if (harnessSyntax && namespaceKind(namespace) !== 'resolvable') {
      // A method name is not part of the reference it is called on.
      if (c === '(') path.pop();
      return { ref: { namespace, path }, complex: true };
    }
    if (c === '(') {
      return {
        error: `method calls are not supported in "${raw}": trig only evaluates plain references such as <+${namespace}.name>`,
      };
    }
    if (nested) {
      return { error: `nested expression in "${raw}": trig cannot evaluate expressions built from other expressions` };
    }
    if (operator !== undefined) {
      return {
        error: `operator "${operator}" is not supported inside "${raw}": keep one reference per <+…>; in an if: condition write the operator outside, e.g. <+trigger.event> == "push"`,
      };
    }
    if (/\s/.test(c)) return { error: `unexpected space in "${raw}": names cannot contain spaces` };
    return { error: reason };
  };

  while (i < body.length) {
    const c = body[i]!;
    if (c === '.') {
      const segStart = i + 1;
      let j = segStart;
      while (j < body.length && SEGMENT_CHAR.test(body[j]!)) j++;
      if (j === segStart) {
        if (j >= body.length) return { error: `"${raw}" ends with ".": remove it or add the missing name` };
        if (body[j] === '.') return { error: `empty path segment in "${raw}": remove the extra "."` };
        return stop(j, illegal(raw, body[j]!));
      }
      path.push(body.slice(segStart, j));
      i = j;
    } else if (c === '[') {
      const close = parseBracket(body, i);
      if (typeof close === 'string') return { error: `${close} in "${raw}"` };
      path.push(close.key);
      i = close.end;
    } else {
      return stop(i, illegal(raw, c));
    }
  }

  if (path.length === 0 && (namespace === 'trigger' || namespace === 'inputs' || namespace === 'secrets' || namespace === 'eventPayload')) {
    const example =
      namespace === 'secrets'
        ? '<+secrets.getValue("my_secret")>'
        : namespace === 'inputs'
          ? '<+inputs.name>'
          : namespace === 'trigger'
            ? '<+trigger.branch>'
            : '<+eventPayload.ref>';
    return { error: `"${raw}" needs a field after the namespace, e.g. ${example}` };
  }
  if (namespace === 'secrets') {
    return { error: `"${raw}" is not a secret reference: write <+secrets.getValue("my_secret")>` };
  }
  return { ref: { namespace, path } };
}

function illegal(raw: string, c: string): string {
  return `illegal character "${c}" in "${raw}": names may contain only letters, digits, "_" and "-" (use ['…'] for other keys)`;
}

function parseBracket(body: string, open: number): { key: string; end: number } | string {
  const close = body.indexOf(']', open);
  if (close < 0) return 'unclosed "["';
  const content = body.slice(open + 1, close).trim();
  if (/^\d+$/.test(content)) return { key: content, end: close + 1 };
  const quoted = /^(?:"([^"]*)"|'([^']*)')$/.exec(content);
  if (quoted) {
    const key = quoted[1] ?? quoted[2] ?? '';
    if (key === '') return 'empty key "[]"';
    return { key, end: close + 1 };
  }
  return `"[${content}]" must hold an array index like [0] or a quoted key like ['name']`;
}
