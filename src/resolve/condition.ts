// Evaluating `if:` conditions (parsed by lang/condition.ts, whose header gives the
// grammar and the value rules) against a trigger event and resolved inputs.

import { ConditionError, fail, parseCondition, type ConditionLeaf, type ConditionNode, type ConditionValue } from '../lang/condition.js';
import { scanExpressions, type ScannedExpression } from '../lang/expressions.js';
import { toNumber } from '../shared/records.js';
import { lookupExpression, stringifyValue, type ResolveScope } from './expressions.js';

type Value = ConditionValue;
type Node = ConditionNode;
type Resolved = Map<ConditionLeaf, Value>;

export function evaluateCondition(text: string, scope: ResolveScope): { value: boolean } | { error: string } {
  try {
    const ast = parseCondition(text);
    // Every reference is looked up, in the order written, before any is used: a reference
    // trig cannot resolve fails the condition even where `&&` or `||` would not reach it.
    const values: Resolved = new Map();
    resolveLeaves(ast, scope, values);
    return { value: truthy(evaluate(ast, values)) };
  } catch (e) {
    if (e instanceof ConditionError) return { error: e.message };
    throw e;
  }
}

function resolveLeaves(node: Node, scope: ResolveScope, values: Resolved): void {
  if (node.kind === 'value') values.set(node.leaf, leafValue(node.leaf, scope));
  else if (node.kind === 'not') resolveLeaves(node.operand, scope, values);
  else {
    resolveLeaves(node.left, scope, values);
    resolveLeaves(node.right, scope, values);
  }
}

function leafValue(leaf: ConditionLeaf, scope: ResolveScope): Value {
  switch (leaf.kind) {
    case 'literal':
      return leaf.value;
    case 'ref':
      return expressionValue(leaf.expr, scope);
    case 'template':
      return interpolate(leaf.text, scope);
  }
}

function expressionValue(expr: ScannedExpression, scope: ResolveScope): Value {
  if (expr.error) fail(expr.error);
  const r = lookupExpression(expr, scope);
  if (r.verbatim) fail(`cannot evaluate ${expr.raw}: ${r.reason ?? 'trig cannot resolve it'}`);
  return r.found ? (r.value as Value) : null;
}

/** Harness resolves `"<+trigger.branch>" == "main"` before comparing, so quoted expressions are substituted too. */
function interpolate(literal: string, scope: ResolveScope): string {
  let out = '';
  let pos = 0;
  for (const expr of scanExpressions(literal)) {
    out += literal.slice(pos, expr.start);
    pos = expr.end;
    out += stringifyValue(expressionValue(expr, scope));
  }
  return out + literal.slice(pos);
}

function truthy(v: Value): boolean {
  if (v === null || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return true;
}

function asNumber(v: Value): number | undefined {
  // Numbers written in a condition are always finite; payload values may not be, and still compare.
  return typeof v === 'number' ? v : toNumber(v);
}

function equals(a: Value, b: Value): boolean {
  if (a === null || b === null) return (a === null || a === '') && (b === null || b === '');
  if (typeof a === 'number' || typeof b === 'number') {
    const x = asNumber(a);
    const y = asNumber(b);
    return x !== undefined && y !== undefined && x === y;
  }
  return stringifyValue(a) === stringifyValue(b);
}

function show(node: Node): string {
  return node.kind === 'value' ? node.text : 'a sub-condition';
}

function order(op: string, left: Node, right: Node, a: Value, b: Value): boolean {
  const x = asNumber(a);
  const y = asNumber(b);
  let cmp: number;
  if (x !== undefined && y !== undefined) cmp = x - y;
  else if (typeof a === 'string' && typeof b === 'string') cmp = a < b ? -1 : a > b ? 1 : 0;
  else {
    const why = (n: Node, v: Value) => `${show(n)} is ${v === null ? 'empty' : typeof v === 'object' ? 'an object' : typeof v}`;
    fail(`cannot use "${op}" here: ${why(left, a)} and ${why(right, b)}; both sides must be numbers or both strings`);
  }
  switch (op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    default:
      return cmp >= 0;
  }
}

function evaluate(node: Node, values: Resolved): Value {
  switch (node.kind) {
    case 'value':
      return values.get(node.leaf) ?? null;
    case 'not':
      return !truthy(evaluate(node.operand, values));
    case 'binary': {
      if (node.op === '&&') return truthy(evaluate(node.left, values)) && truthy(evaluate(node.right, values));
      if (node.op === '||') return truthy(evaluate(node.left, values)) || truthy(evaluate(node.right, values));
      const a = evaluate(node.left, values);
      const b = evaluate(node.right, values);
      if (node.op === '==') return equals(a, b);
      if (node.op === '!=') return !equals(a, b);
      return order(node.op, node.left, node.right, a, b);
    }
  }
}
