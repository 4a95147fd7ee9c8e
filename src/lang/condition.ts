// `if:` conditions on stages and steps.
//
// Grammar (lowest precedence first, all binary operators left-associative):
//   or       := and ( "||" and )*
//   and      := equality ( "&&" equality )*
//   equality := relation ( ("==" | "!=") relation )*
//   relation := unary ( ("<" | "<=" | ">" | ">=") unary )*
//   unary    := "!" unary | primary
//   primary  := <+expr> | string | number | true | false | null | "(" or ")"
//
// Anything outside this grammar is an error rather than a guess: the runner
// reports a step whose condition it cannot evaluate instead of running or
// skipping it on a hunch.
//
// Value rules:
// - An expression that resolves to nothing is null; null equals null and "".
//   That lets `<+trigger.pullReq> != ""` gate trigger-only logic on manual runs.
// - Equality between a number and a numeric string compares numbers
//   (`<+trigger.pullReq> == 42` works whether the event says 42 or "42");
//   booleans compare with "true"/"false"; everything else compares as text.
// - Ordering needs two numbers (or numeric strings) or two strings.
// - Truthiness: null, false, 0, "", "0" and "false" (any case) are false.

import { scanExpressions, type ScannedExpression } from './expressions.js';

/** What a condition's values are once its references are looked up. */
export type ConditionValue = string | number | boolean | null | object;

/** A value as written: a literal, a `<+…>` reference, or a quoted string that may hold references. */
export type ConditionLeaf =
  { kind: 'literal'; value: ConditionValue } | { kind: 'ref'; expr: ScannedExpression } | { kind: 'template'; text: string };

type Token = { kind: 'value'; leaf: ConditionLeaf; pos: number; text: string } | { kind: 'op'; op: string; pos: number };

/** The syntax tree of a condition (parseCondition); resolve/condition.ts evaluates it. */
export type ConditionNode =
  | { kind: 'value'; leaf: ConditionLeaf; text: string }
  | { kind: 'not'; operand: ConditionNode }
  | { kind: 'binary'; op: string; left: ConditionNode; right: ConditionNode; pos: number };

type Node = ConditionNode;

export class ConditionError extends Error {
  constructor(
    message: string,
    /** Offset of the offending part in the condition, when known. */
    readonly pos?: number,
    readonly length = 1,
  ) {
    super(message);
  }
}

export function fail(message: string, pos?: number, length?: number): never {
  throw new ConditionError(message, pos, length);
}

export interface ConditionProblem {
  message: string;
  /** Offsets of the part at fault in the condition. */
  start: number;
  end: number;
  /** `${{ … }}`: the spec's own syntax, which trig does not evaluate. */
  foreign: boolean;
}

/**
 * Why a condition cannot be parsed, with the offsets of the part at fault, or undefined
 * when it parses: what `trig validate` checks of every `if:`, with no event to resolve
 * references against. A malformed `<+…>` is left to the expression rule.
 */
export function conditionProblem(text: string): ConditionProblem | undefined {
  if (scanExpressions(text).some((e) => e.error)) return undefined;
  try {
    parseCondition(text);
    return undefined;
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    // Without a known position, the whole condition is at fault.
    const start = e.pos ?? 0;
    const end = e.pos === undefined ? text.length : Math.min(text.length, e.pos + e.length);
    return { message: e.message, start, end: Math.max(end, start + 1), foreign: text.startsWith('${{', start) };
  }
}

// Parentheses and `!` nest by recursion, in the parser and in evaluation; a condition
// from a definition must not be able to exhaust the stack.
const MAX_NESTING = 100;
// Evaluation recurses once per operator too (`a && b && …` nests to the left).
const MAX_TOKENS = 1000;

/** The syntax tree of a condition, its references parsed but not looked up; throws ConditionError. */
export function parseCondition(text: string): ConditionNode {
  if (text.trim() === '') fail('the condition is empty');
  const tokens = tokenize(text);
  if (tokens.length > MAX_TOKENS) fail(`the condition is too long: at most ${MAX_TOKENS} values and operators`, tokens[MAX_TOKENS]!.pos);
  const parser = new Parser(tokens, text.length);
  const ast = parser.parseOr();
  parser.expectEnd();
  return ast;
}

// ---------------------------------------------------------------------------
// Tokenizer

const WORD_HINTS: Record<string, string> = {
  and: 'use "&&" instead of "and"',
  or: 'use "||" instead of "or"',
  not: 'use "!" instead of "not"',
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const col = (p: number) => `column ${p + 1}`;

  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }

    if (text.startsWith('${{', i)) {
      const close = text.indexOf('}}', i);
      fail(
        `GitHub Actions "\${{ … }}" is not evaluated (${col(i)}): trig evaluates <+…> conditions, such as <+trigger.event> == "push"`,
        i,
        close === -1 ? text.length - i : close + 2 - i,
      );
    }

    if (text.startsWith('<+', i)) {
      const expr = scanExpressions(text.slice(i))[0]!;
      const raw = expr.raw;
      tokens.push({ kind: 'value', leaf: { kind: 'ref', expr }, pos: i, text: raw });
      i += expr.end;
      continue;
    }

    if (c === '"' || c === "'") {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'value', leaf: { kind: 'template', text: value }, pos: i, text: text.slice(i, end) });
      i = end;
      continue;
    }

    const num = /^-?\d+(?:\.\d+)?/.exec(text.slice(i));
    if (num) {
      if (/^[A-Za-z_]/.test(text.slice(i + num[0].length))) {
        const word = text.slice(i).split(/[\s()]/)[0]!;
        fail(`unexpected "${word}" at ${col(i)}: quote strings, e.g. "${word}"`, i, word.length);
      }
      tokens.push({ kind: 'value', leaf: { kind: 'literal', value: Number(num[0]) }, pos: i, text: num[0] });
      i += num[0].length;
      continue;
    }

    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (word) {
      const w = word[0];
      const literal: Record<string, ConditionValue> = { true: true, false: false, null: null };
      if (Object.prototype.hasOwnProperty.call(literal, w)) {
        tokens.push({ kind: 'value', leaf: { kind: 'literal', value: literal[w]! }, pos: i, text: w });
      } else if (/^\s*\(/.test(text.slice(i + w.length))) {
        fail(`function calls such as "${w}(…)" are not supported (${col(i)}): compare values with ==, !=, <, <=, >, >=`, i, w.length);
      } else if (WORD_HINTS[w.toLowerCase()]) {
        fail(`unexpected "${w}" at ${col(i)}: ${WORD_HINTS[w.toLowerCase()]}`, i, w.length);
      } else {
        const ref = w.includes('.') ? `<+${w}>` : `<+inputs.${w}>`;
        fail(`unexpected "${w}" at ${col(i)}: quote strings ("${w}") and write references as <+…>, e.g. ${ref}`, i, w.length);
      }
      i += w.length;
      continue;
    }

    const three = text.slice(i, i + 3);
    if (three === '===' || three === '!==') {
      fail(`"${three}" is not supported (${col(i)}): use "${three.slice(0, 2)}"`, i, 3);
    }
    const two = text.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      tokens.push({ kind: 'op', op: two, pos: i });
      i += 2;
      continue;
    }
    if ('<>!()'.includes(c)) {
      tokens.push({ kind: 'op', op: c, pos: i });
      i++;
      continue;
    }
    if (c === '=') fail(`"=" at ${col(i)} assigns; use "==" to compare`, i);
    if (c === '&') fail(`"&" at ${col(i)}: use "&&"`, i);
    if (c === '|') fail(`"|" at ${col(i)}: use "||"`, i);
    fail(`unexpected character "${c}" at ${col(i)}`, i);
  }
  return tokens;
}

function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (c === '\\' && i + 1 < text.length) {
      const n = text[i + 1]!;
      value += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  fail(`unterminated string starting at column ${start + 1}: add the closing ${quote}`, start, text.length - start);
}

// ---------------------------------------------------------------------------
// Parser

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    /** Where the condition ends, the position of a problem found there. */
    private readonly end: number,
  ) {}

  private at(t: Token | undefined): number {
    return t ? t.pos : Math.max(0, this.end - 1);
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.i];
    return t && t.kind === 'op' && ops.includes(t.op) ? t.op : undefined;
  }

  private describe(t: Token | undefined): string {
    if (!t) return 'the end of the condition';
    return t.kind === 'op' ? `"${t.op}" at column ${t.pos + 1}` : `${t.text} at column ${t.pos + 1}`;
  }

  private binary(ops: string[], next: () => Node): Node {
    let left = next();
    for (;;) {
      const op = this.peekOp(...ops);
      if (!op) return left;
      const pos = this.tokens[this.i]!.pos;
      this.i++;
      if (!this.tokens[this.i]) fail(`"${op}" at column ${pos + 1} needs a value after it`, pos, op.length);
      left = { kind: 'binary', op, left, right: next(), pos };
    }
  }

  parseOr = (): Node => this.binary(['||'], this.parseAnd);
  parseAnd = (): Node => this.binary(['&&'], this.parseEquality);
  parseEquality = (): Node => this.binary(['==', '!='], this.parseRelation);
  parseRelation = (): Node => this.binary(['<', '<=', '>', '>='], this.parseUnary);

  private depth = 0;

  private nested<T>(pos: number, parse: () => T): T {
    if (++this.depth > MAX_NESTING) fail(`the condition nests "(" and "!" more than ${MAX_NESTING} deep`, pos);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  parseUnary = (): Node => {
    const t = this.tokens[this.i];
    if (t && this.peekOp('!')) {
      this.i++;
      return this.nested(t.pos, () => ({ kind: 'not', operand: this.parseUnary() }));
    }
    return this.parsePrimary();
  };

  private parsePrimary(): Node {
    const t = this.tokens[this.i];
    if (t && t.kind === 'value') {
      this.i++;
      return { kind: 'value', leaf: t.leaf, text: t.text };
    }
    if (t && t.kind === 'op' && t.op === '(') {
      this.i++;
      const inner = this.nested(t.pos, this.parseOr);
      if (!this.peekOp(')')) fail(`missing ")" for "(" at column ${t.pos + 1}, found ${this.describe(this.tokens[this.i])}`, t.pos);
      this.i++;
      return inner;
    }
    fail(`expected a value, found ${this.describe(t)}`, this.at(t));
  }

  expectEnd(): void {
    const t = this.tokens[this.i];
    if (!t) return;
    if (t.kind === 'value') fail(`missing operator before ${this.describe(t)}`, t.pos, t.text.length);
    fail(`unexpected ${this.describe(t)}`, t.pos, t.op.length);
  }
}
