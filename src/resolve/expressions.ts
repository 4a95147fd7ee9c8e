// Substituting `<+…>` expressions (parsed by lang/expressions.ts) with values from a
// trigger event and resolved inputs.

import { namespaceKind, scanExpressions, suggestNamespace, type ScannedExpression } from '../lang/expressions.js';

export interface ResolveScope {
  /** Trigger context: flat fields (repo, branch, …), `event`, and `payload` (the raw payload). */
  trigger: Record<string, unknown>;
  /** Resolved input values. */
  inputs: Record<string, unknown>;
  /** Names of inputs of type secret; their values are reported in `secrets` for masking. */
  secretInputs?: ReadonlySet<string>;
  /**
   * Values for `<+secrets.getValue("id")>`. trig has no secret store, so
   * without this such expressions are left verbatim with a problem.
   */
  secretValues?: Readonly<Record<string, string>>;
}

export interface Resolved {
  value: string;
  /** Every resolved value that came from a secret, so callers can mask it. */
  secrets: string[];
  problems: string[];
}

/** Outcome of one reference; `value` is absent when nothing could be substituted. */
export interface RefLookup {
  found: boolean;
  value?: unknown;
  secret: boolean;
  /** Leave the expression text in place (runtime/unknown namespace, no secret store). */
  verbatim: boolean;
  problem?: string;
  /** For verbatim results: why trig cannot resolve it, without the expression itself. */
  reason?: string;
}

function unresolvable(raw: string, reason: string, secret = false): RefLookup {
  return { found: false, secret, verbatim: true, problem: `${raw} is left as is: ${reason}`, reason };
}

function isAbsent(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

type Walk = { ok: true; value: unknown } | { ok: false; missingAt: number };

function walk(root: unknown, path: readonly string[]): Walk {
  let current = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(seg) || Number(seg) >= current.length) return { ok: false, missingAt: i };
      current = current[Number(seg)];
    } else if (current !== null && typeof current === 'object' && Object.prototype.hasOwnProperty.call(current, seg)) {
      current = (current as Record<string, unknown>)[seg];
    } else {
      return { ok: false, missingAt: i };
    }
  }
  return { ok: true, value: current };
}

function lookupInput(path: readonly string[], scope: ResolveScope): { value: unknown; found: boolean; secret: boolean; why?: string } {
  const name = path[0]!;
  const secret = scope.secretInputs?.has(name) ?? false;
  if (!Object.prototype.hasOwnProperty.call(scope.inputs, name)) {
    return { value: undefined, found: false, secret, why: `there is no input "${name}"` };
  }
  const w = walk(scope.inputs, path);
  if (!w.ok) {
    return { value: undefined, found: false, secret, why: `input "${name}" has no "${path.slice(0, w.missingAt + 1).join('.')}"` };
  }
  if (w.value === undefined || w.value === null) {
    return { value: undefined, found: false, secret, why: `input "${name}" is not set` };
  }
  return { value: w.value, found: true, secret };
}

/**
 * Looks up one expression. Exposed so that condition evaluation can work on
 * typed values rather than on strings.
 */
export function lookupExpression(expr: ScannedExpression, scope: ResolveScope): RefLookup {
  const raw = expr.raw;
  if (expr.error || !expr.ref) {
    const reason = expr.error ?? `cannot read "${raw}"`;
    return { found: false, secret: false, verbatim: true, problem: reason, reason };
  }
  const { namespace, path } = expr.ref;

  if (expr.complex || namespaceKind(namespace) === 'runtime') {
    return unresolvable(raw, `"${namespace}" expressions are resolved by Harness while the pipeline runs, not by trig`);
  }
  if (namespaceKind(namespace) === 'unknown') {
    const hint = suggestNamespace(namespace);
    return unresolvable(raw, `"${namespace}" is not a known expression namespace${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }

  if (namespace === 'secrets') {
    const id = (expr.ref as { secretId?: string }).secretId ?? '';
    const value = scope.secretValues?.[id];
    if (value === undefined) {
      return unresolvable(raw, `secret "${id}" is not available locally (trig has no secret store; declare a secret input instead)`, true);
    }
    return { found: true, value, secret: true, verbatim: false };
  }

  if (namespace === 'inputs') {
    const r = lookupInput(path, scope);
    if (!r.found) return { found: false, secret: r.secret, verbatim: false, problem: `${raw} has no value: ${r.why}` };
    return { found: true, value: r.value, secret: r.secret, verbatim: false };
  }

  // trigger.payload.… and eventPayload.… walk the raw payload; there is no
  // input of the same name to fall back to.
  const payloadPath = namespace === 'eventPayload' ? path : path[0] === 'payload' ? path.slice(1) : undefined;
  if (payloadPath) {
    const payload = scope.trigger['payload'];
    if (payload === undefined || payload === null) {
      return { found: false, secret: false, verbatim: false, problem: `${raw} has no value: the event has no payload` };
    }
    const w = walk(payload, payloadPath);
    if (!w.ok || isAbsent(w.value)) {
      const missing = w.ok ? payloadPath.join('.') : payloadPath.slice(0, w.missingAt + 1).join('.');
      return {
        found: false,
        secret: false,
        verbatim: false,
        problem: w.ok
          ? `${raw} has no value: "${missing}" is empty in the event payload`
          : `${raw} has no value: the event payload has no "${missing}"`,
      };
    }
    return { found: true, value: w.value, secret: false, verbatim: false };
  }

  // Manual runs carry few trigger fields; the seed makes <+trigger.x> fall
  // back to the input of the same name.
  const w = walk(scope.trigger, path);
  if (w.ok && !isAbsent(w.value)) return { found: true, value: w.value, secret: false, verbatim: false };
  const r = lookupInput(path, scope);
  if (r.found) return { found: true, value: r.value, secret: r.secret, verbatim: false };
  const field = path.join('.');
  const inputPart = r.why?.startsWith('there is no input') ? `there is no input "${field}"` : r.why;
  return {
    found: false,
    secret: false,
    verbatim: false,
    problem: `${raw} has no value: the event does not carry "${field}" and ${inputPart}`,
  };
}

export function stringifyValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function addSecret(secrets: string[], value: string): void {
  // An empty secret cannot leak, and masking "" would mangle every line.
  if (value !== '' && !secrets.includes(value)) secrets.push(value);
}

export function resolveString(text: string, scope: ResolveScope): Resolved {
  const secrets: string[] = [];
  const problems: string[] = [];
  let out = '';
  let pos = 0;
  for (const expr of scanExpressions(text)) {
    out += text.slice(pos, expr.start);
    pos = expr.end;
    const r = lookupExpression(expr, scope);
    if (r.problem) problems.push(r.problem);
    if (r.verbatim) {
      out += expr.raw;
      continue;
    }
    const s = r.found ? stringifyValue(r.value) : '';
    if (r.secret && r.found) addSecret(secrets, s);
    out += s;
  }
  out += text.slice(pos);
  return { value: out, secrets, problems };
}

/**
 * Resolves every string inside `value` (object keys are left alone).
 *
 * A string that is exactly one expression keeps the type of what it resolves
 * to — `depth: "<+inputs.depth>"` stays the number 3, an object stays an
 * object — so that resolved definitions still match their schema. Missing
 * values become "" as in resolveString; surrounding whitespace counts as text
 * and forces a string.
 */
export function resolveDeep(value: unknown, scope: ResolveScope): { value: unknown; secrets: string[]; problems: string[] } {
  const secrets: string[] = [];
  const problems: string[] = [];

  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const exprs = scanExpressions(v);
      const only = exprs.length === 1 ? exprs[0]! : undefined;
      if (only && only.start === 0 && only.end === v.length) {
        const r = lookupExpression(only, scope);
        if (r.problem) problems.push(r.problem);
        if (r.verbatim) return v;
        if (!r.found) return '';
        if (r.secret) addSecret(secrets, stringifyValue(r.value));
        // Copy so that editing the resolved definition cannot alter the inputs or payload.
        return typeof r.value === 'object' ? structuredClone(r.value) : r.value;
      }
      const r = resolveString(v, scope);
      problems.push(...r.problems);
      for (const s of r.secrets) addSecret(secrets, s);
      return r.value;
    }
    if (Array.isArray(v)) return v.map(visit);
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) out[k] = visit(child);
      return out;
    }
    return v;
  };

  return { value: visit(value), secrets, problems };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
