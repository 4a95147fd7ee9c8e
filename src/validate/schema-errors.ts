import type { ErrorObject } from 'ajv';
import definitionSchema from '../../schemas/definition.schema.json' with { type: 'json' };
import eventsSchema from '../../schemas/events.schema.json' with { type: 'json' };
import { isRecord, plural } from '../shared/records.js';
import { suggest } from '../shared/suggest.js';

export interface SchemaProblem {
  path: (string | number)[];
  message: string;
  at: 'key' | 'value';
}

type Segment = string | number;
type SchemaObject = Record<string, unknown>;
type Schema = boolean | SchemaObject;

/** The pattern the schema uses for `<+…>` expressions standing in for numbers and booleans. */
export const EXPRESSION_PATTERN = '^<\\+.*>$';

// Long enum lists (the event names) would drown the message; past this many values only
// the count and a suggestion are given.
const MAX_LISTED_VALUES = 12;

// ---------------------------------------------------------------------------
// Locating the schema that governs a point of the document.
//
// Ajv's schemaPath restarts at "#" inside every separately compiled $ref target, so it
// cannot tell which definition an error came from. Instead the schema is walked along the
// instance path, using the data to pick if/then/else branches, to find the titles, allowed
// keys and types that make a message precise.

interface Node {
  schema: SchemaObject;
  root: SchemaObject;
}

class SchemaWalker {
  private readonly byId = new Map<string, SchemaObject>();

  readonly rootTitle: string | undefined;

  constructor(
    private readonly main: SchemaObject,
    others: readonly object[],
  ) {
    this.rootTitle = typeof main['title'] === 'string' ? main['title'] : undefined;
    for (const s of [main, ...others]) {
      const id = (s as SchemaObject)['$id'];
      if (typeof id === 'string') this.byId.set(id, s as SchemaObject);
    }
  }

  nodesAt(path: readonly Segment[], data: unknown): Node[] {
    let nodes = this.expand(this.main, this.main, data, 0);
    let value = data;
    for (const seg of path) {
      const child = childValue(value, seg);
      nodes = nodes.flatMap((n) => this.child(n, seg, value, child));
      value = child;
    }
    return nodes;
  }

  private child(node: Node, seg: Segment, parent: unknown, value: unknown): Node[] {
    const s = node.schema;
    if (Array.isArray(parent)) {
      const items = s['items'];
      return isSchema(items) ? this.expand(items, node.root, value, 0) : [];
    }
    const props = s['properties'];
    if (isObject(props) && typeof seg === 'string' && Object.hasOwn(props, seg)) {
      return this.expand(props[seg] as Schema, node.root, value, 0);
    }
    const patterns = s['patternProperties'];
    if (isObject(patterns)) {
      for (const [pattern, sub] of Object.entries(patterns)) {
        if (new RegExp(pattern, 'u').test(String(seg))) return this.expand(sub as Schema, node.root, value, 0);
      }
    }
    const extra = s['additionalProperties'];
    return isObject(extra) ? this.expand(extra, node.root, value, 0) : [];
  }

  private expand(schema: Schema, root: SchemaObject, data: unknown, depth: number): Node[] {
    if (!isObject(schema) || depth > 32) return [];
    const out: Node[] = [{ schema, root }];
    const ref = schema['$ref'];
    if (typeof ref === 'string') {
      const target = this.resolve(ref, root);
      if (target) out.push(...this.expand(target.schema, target.root, data, depth + 1));
    }
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = schema[key];
      if (Array.isArray(list)) for (const sub of list) out.push(...this.expand(sub as Schema, root, data, depth + 1));
    }
    if (isSchema(schema['if'])) {
      const verdict = quickTest(schema['if'], data);
      if (verdict !== false && isSchema(schema['then'])) out.push(...this.expand(schema['then'], root, data, depth + 1));
      if (verdict !== true && isSchema(schema['else'])) out.push(...this.expand(schema['else'], root, data, depth + 1));
    }
    return out;
  }

  private resolve(ref: string, root: SchemaObject): Node | undefined {
    const hash = ref.indexOf('#');
    const base = hash === -1 ? ref : ref.slice(0, hash);
    const pointer = hash === -1 ? '' : ref.slice(hash + 1);
    const target = base === '' ? root : this.byId.get(base);
    if (!target) return undefined;
    let cur: unknown = target;
    for (const part of pointer.split('/').slice(1)) {
      if (!isObject(cur)) return undefined;
      cur = cur[unescapePointer(part)];
    }
    return isObject(cur) ? { schema: cur, root: target } : undefined;
  }
}

// Evaluates the `if` conditions this project's schemas use (a type test, a required key);
// anything else is undecided and both branches are kept.
function quickTest(schema: Schema, data: unknown): boolean | undefined {
  if (typeof schema === 'boolean') return schema;
  const keys = Object.keys(schema).filter((k) => k !== 'description' && k !== 'title');
  if (keys.some((k) => k !== 'type' && k !== 'required')) return undefined;
  let ok = true;
  const type = schema['type'];
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    ok &&= types.some((t) => matchesType(t as string, data));
  }
  const required = schema['required'];
  if (Array.isArray(required) && isObject(data)) ok &&= required.every((k) => Object.hasOwn(data, k as string));
  return ok;
}

function matchesType(type: string, data: unknown): boolean {
  switch (type) {
    case 'null':
      return data === null;
    case 'array':
      return Array.isArray(data);
    case 'object':
      return isObject(data);
    case 'integer':
      return Number.isInteger(data);
    default:
      return typeof data === type;
  }
}

function isObject(v: unknown): v is SchemaObject {
  return isRecord(v);
}

function isSchema(v: unknown): v is Schema {
  return typeof v === 'boolean' || isObject(v);
}

function unescapePointer(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}

function childValue(value: unknown, seg: Segment): unknown {
  if (Array.isArray(value)) return value[seg as number];
  if (isObject(value)) return value[String(seg)];
  return undefined;
}

function toPath(instancePath: string, data: unknown): Segment[] {
  if (instancePath === '') return [];
  const path: Segment[] = [];
  let value = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = unescapePointer(raw);
    const seg: Segment = Array.isArray(value) && /^\d+$/.test(part) ? Number(part) : part;
    path.push(seg);
    value = childValue(value, seg);
  }
  return path;
}

// ---------------------------------------------------------------------------
// Wording

function titleOf(nodes: readonly Node[], path?: readonly (string | number)[]): string | undefined {
  // `agent` shares the pipeline's schema: call its body by the name the user wrote.
  if (path?.length === 1 && path[0] === 'agent') return 'agent';
  for (let i = nodes.length - 1; i >= 0; i--) {
    const t = nodes[i]!.schema['title'];
    if (typeof t === 'string') return t;
  }
  return undefined;
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function andList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function nameOf(path: readonly Segment[], rootTitle: string | undefined): string {
  if (path.length === 0) return `the ${rootTitle ?? 'document'}`;
  let i = path.length - 1;
  let suffix = '';
  while (i >= 0 && typeof path[i] === 'number') {
    suffix = `[${path[i]}]${suffix}`;
    i--;
  }
  return quote(`${i >= 0 ? String(path[i]) : ''}${suffix}`);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function typeWords(types: readonly string[]): string {
  return orList(types.map((t) => TYPE_WORDS[t] ?? t));
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${quote(shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}

function allowedKeys(nodes: readonly Node[]): string[] {
  const keys = new Set<string>();
  for (const n of nodes) {
    const props = n.schema['properties'];
    if (isObject(props)) for (const [k, v] of Object.entries(props)) if (v !== false) keys.add(k);
  }
  return [...keys];
}

// Types a value may have, leaving out `string` where a string is only accepted as a
// `<+…>` expression: telling the user "a number or a string" would invite "ten".
function expectedTypes(types: readonly string[], nodes: readonly Node[]): string[] {
  const expressionOnly = nodes.some((n) => n.schema['pattern'] === EXPRESSION_PATTERN);
  const kept = expressionOnly ? types.filter((t) => t !== 'string') : [...types];
  return kept.length > 0 ? kept : [...types];
}

function nodeTypes(nodes: readonly Node[]): string[] {
  for (const n of nodes) {
    const t = n.schema['type'];
    if (typeof t === 'string') return [t];
    if (Array.isArray(t)) return t as string[];
  }
  return [];
}

// ---------------------------------------------------------------------------
// Shaping

interface Located {
  error: ErrorObject;
  path: Segment[];
}

interface Problem extends SchemaProblem {
  // Set on "missing key" problems, so an unknown key that is a typo of one of these
  // keys can stand in for them.
  missing?: readonly string[];
  unknownSuggestion?: string;
  // Several schemas may each say a value has the wrong type (an if/else chain reached
  // through a list's items, say); the first, most general one is enough.
  wrongType?: true;
}

const DEFAULT_SCHEMAS: readonly object[] = [definitionSchema, eventsSchema];

/**
 * Turns Ajv's raw errors (compiled with allErrors) into the few messages a compiler would
 * give: one per real problem, none for the alternatives that did not apply.
 *
 * `schemas` are the schemas the errors were produced with, the root schema first; they
 * supply the titles, allowed keys and types the messages are worded from.
 */
export function shapeSchemaErrors(errors: ErrorObject[], data: unknown, schemas: readonly object[] = DEFAULT_SCHEMAS): SchemaProblem[] {
  const [main, ...others] = schemas.length > 0 ? schemas : DEFAULT_SCHEMAS;
  const walker = new SchemaWalker(main as SchemaObject, others);
  const located: Located[] = errors.map((error) => ({ error, path: toPath(error.instancePath, data) }));
  const problems = shapeList(located, data, walker);
  return finish(problems, data);
}

function shapeList(list: readonly Located[], data: unknown, walker: SchemaWalker): Problem[] {
  const groups = groupAlternatives(list);
  const problems: Problem[] = [];
  const conflicts: Located[] = [];
  for (const item of groups) {
    if ('children' in item) {
      problems.push(...shapeAlternatives(item, data, walker));
      continue;
    }
    if (item.error.keyword === 'false schema' && DEPENDENT_FALSE.test(item.error.schemaPath)) {
      conflicts.push(item);
      continue;
    }
    const p = shapeOne(item, data, walker);
    if (p) problems.push(p);
  }
  problems.push(...shapeConflicts(conflicts, data, walker));
  return problems;
}

interface Alternatives {
  error: ErrorObject;
  path: Segment[];
  children: (Located | Alternatives)[];
}

// Ajv reports an anyOf/oneOf failure after the errors of its branches, all at or below
// its own instance path; gather those so that they are judged together.
function groupAlternatives(list: readonly Located[]): (Located | Alternatives)[] {
  const out: (Located | Alternatives)[] = [];
  for (const item of list) {
    const kw = item.error.keyword;
    if (kw === 'if') continue;
    if ((kw === 'anyOf' || kw === 'oneOf') && item.error.params['passingSchemas'] == null) {
      const children: (Located | Alternatives)[] = [];
      while (out.length > 0 && isUnder(out.at(-1)!.path, item.path)) children.unshift(out.pop()!);
      out.push({ ...item, children });
      continue;
    }
    out.push(item);
  }
  return out;
}

function isUnder(path: readonly Segment[], prefix: readonly Segment[]): boolean {
  return path.length >= prefix.length && prefix.every((seg, i) => path[i] === seg);
}

function leaves(items: readonly (Located | Alternatives)[]): Located[] {
  return items.flatMap((i) => ('children' in i ? leaves(i.children) : [i]));
}

function shapeAlternatives(group: Alternatives, data: unknown, walker: SchemaWalker): Problem[] {
  const here = group.path;
  const nodes = walker.nodesAt(here, data);
  const all = leaves(group.children);

  // anyOf of single `required`s: "needs one of these keys".
  if (all.length > 0 && all.every((l) => l.error.keyword === 'required' && samePath(l.path, here))) {
    const keys = [...new Set(all.map((l) => String(l.error.params['missingProperty'])))];
    const title = titleOf(nodes, here) ?? 'mapping';
    const exactly = nodes.some((n) => coversExclusive(n.schema, keys));
    return [
      {
        path: here,
        at: 'value',
        message: `${article(title)} needs ${exactly ? 'exactly' : 'at least'} one of ${orList(keys.map(quote))}`,
        missing: keys,
      },
    ];
  }

  // Otherwise report the branch the value was meant for: one whose type fits it.
  const base = group.error.schemaPath + '/';
  const branches = new Map<string, (Located | Alternatives)[]>();
  for (const child of group.children) {
    const sp = child.error.schemaPath;
    const key = sp.startsWith(base) ? sp.slice(base.length).split('/')[0]! : '?';
    branches.set(key, [...(branches.get(key) ?? []), child]);
  }
  const fitting = [...branches.values()].filter((b) => !leaves(b).some((l) => l.error.keyword === 'type' && samePath(l.path, here)));
  if (fitting.length > 0) {
    // A branch that took the value's shape and failed only inside it (a list whose item
    // `urgent` is not allowed) is the one the value was meant for, over one that rejects
    // the value as a whole (`enum` on the list itself): its problems point at the items.
    const inside = fitting.filter((b) => leaves(b).every((l) => l.path.length > here.length));
    const candidates = inside.length > 0 ? inside : fitting;
    const best = candidates.reduce((a, b) => (leaves(b).length < leaves(a).length ? b : a));
    return shapeList(flattenForReshape(best), data, walker);
  }
  const types = [
    ...new Set(all.filter((l) => l.error.keyword === 'type' && samePath(l.path, here)).flatMap((l) => toArray(l.error.params['type']))),
  ];
  return [
    {
      path: here,
      at: 'value',
      message: `${nameOf(here, walker.rootTitle)} must be ${typeWords(expectedTypes(types, nodes))}, got ${describe(valueAt(data, here))}`,
      wrongType: true,
    },
  ];
}

// Nested groups are re-formed by shapeList, so hand it their leaves back in order.
function flattenForReshape(items: readonly (Located | Alternatives)[]): Located[] {
  return items.flatMap((i) => ('children' in i ? [...flattenForReshape(i.children), { error: i.error, path: i.path }] : [i]));
}

function coversExclusive(schema: SchemaObject, keys: readonly string[]): boolean {
  const dep = schema['dependentSchemas'];
  return isObject(dep) && keys.every((k) => Object.hasOwn(dep, k));
}

function samePath(a: readonly Segment[], b: readonly Segment[]): boolean {
  return a.length === b.length && isUnder(a, b);
}

function toArray(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];
}

function valueAt(data: unknown, path: readonly Segment[]): unknown {
  return path.reduce<unknown>((v, seg) => childValue(v, seg), data);
}

const DEPENDENT_FALSE = /\/dependentSchemas\/([^/]+)\/properties\/([^/]+)\/false schema$/;

// `dependentSchemas: {a: {properties: {b: false}}}` is how the schema says "not both a and
// b"; Ajv reports it once per direction, at the forbidden key. One problem per mapping.
function shapeConflicts(list: readonly Located[], data: unknown, walker: SchemaWalker): Problem[] {
  const byObject = new Map<string, { path: Segment[]; keys: Set<string> }>();
  for (const item of list) {
    const m = DEPENDENT_FALSE.exec(item.error.schemaPath)!;
    const objectPath = item.path.slice(0, -1);
    const id = JSON.stringify(objectPath);
    const entry = byObject.get(id) ?? { path: objectPath, keys: new Set<string>() };
    entry.keys.add(unescapePointer(m[1]!));
    entry.keys.add(unescapePointer(m[2]!));
    byObject.set(id, entry);
  }
  const problems: Problem[] = [];
  for (const { path, keys } of byObject.values()) {
    const obj = valueAt(data, path);
    const present = isObject(obj) ? Object.keys(obj).filter((k) => keys.has(k)) : [...keys];
    const nodes = walker.nodesAt(path, data);
    const owner = nodes.find((n) => coversExclusive(n.schema, present));
    const alternatives = owner ? Object.keys(owner.schema['dependentSchemas'] as SchemaObject) : present;
    const exactly = owner ? hasAtLeastOne(owner.schema, alternatives) : false;
    const title = titleOf(nodes, path) ?? 'mapping';
    const found = present.length === 2 && alternatives.length === 2 ? 'both' : andList(present.map(quote));
    problems.push({
      path: [...path, present[1] ?? present[0] ?? ''],
      at: 'key',
      message: `${article(title)} ${exactly ? 'needs exactly' : 'can have only'} one of ${orList(alternatives.map(quote))}, but has ${found}`,
    });
  }
  return problems;
}

function hasAtLeastOne(schema: SchemaObject, keys: readonly string[]): boolean {
  const anyOf = schema['anyOf'];
  if (!Array.isArray(anyOf)) return false;
  const required = anyOf.flatMap((b) => (isObject(b) && Array.isArray(b['required']) ? (b['required'] as string[]) : []));
  return keys.every((k) => required.includes(k));
}

function shapeOne(item: Located, data: unknown, walker: SchemaWalker): Problem | undefined {
  const { error, path } = item;
  const params = error.params as Record<string, unknown>;
  const name = nameOf(path, walker.rootTitle);
  const value = valueAt(data, path);
  switch (error.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(params['additionalProperty'] ?? params['unevaluatedProperty']);
      const nodes = walker.nodesAt(path, data);
      const where = path.length === 0 ? 'at the top level' : `in ${titleOf(nodes, path) ?? nameOf(path, walker.rootTitle)}`;
      const guess = suggest(key, allowedKeys(nodes));
      return {
        path: [...path, key],
        at: 'key',
        message: `unknown key ${quote(key)} ${where}${guess ? `; did you mean ${quote(guess)}?` : ''}`,
        ...(guess ? { unknownSuggestion: guess } : {}),
      };
    }
    case 'required': {
      const key = String(params['missingProperty']);
      return { path, at: 'value', message: `missing required key ${quote(key)}`, missing: [key] };
    }
    case 'dependentRequired': {
      const key = String(params['property']);
      return {
        path: [...path, key],
        at: 'key',
        message: `${quote(key)} also needs ${quote(String(params['missingProperty']))}`,
      };
    }
    case 'type': {
      const types = expectedTypes(toArray(params['type']), walker.nodesAt(path, data));
      return { path, at: 'value', message: `${name} must be ${typeWords(types)}, got ${describe(value)}`, wrongType: true };
    }
    case 'pattern': {
      if (params['pattern'] === EXPRESSION_PATTERN) {
        const types = expectedTypes(nodeTypes(walker.nodesAt(path, data)), walker.nodesAt(path, data));
        const expected =
          types.length > 0 && !(types.length === 1 && types[0] === 'string') ? typeWords(types) : 'an expression like <+inputs.name>';
        return { path, at: 'value', message: `${name} must be ${expected}, got ${describe(value)}`, wrongType: true };
      }
      return { path, at: 'value', message: `${name} must match the pattern ${String(params['pattern'])}, got ${describe(value)}` };
    }
    case 'enum': {
      const allowed = toArray(
        (params['allowedValues'] as unknown[] | undefined)?.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
      );
      const guess = typeof value === 'string' ? suggest(value, allowed) : undefined;
      const hint = guess ? `; did you mean ${quote(guess)}?` : '';
      if (allowed.length > MAX_LISTED_VALUES) {
        return { path, at: 'value', message: `${name} must be one of ${allowed.length} known values, got ${describe(value)}${hint}` };
      }
      return { path, at: 'value', message: `${name} must be one of: ${allowed.join(', ')}${hint}` };
    }
    case 'const':
      return { path, at: 'value', message: `${name} must be ${JSON.stringify(params['allowedValue'])}, got ${describe(value)}` };
    case 'false schema':
      return { path, at: 'key', message: `${name} is not allowed here` };
    case 'not':
      return { path, at: 'value', message: `${name} is not allowed here` };
    case 'minItems':
      return { path, at: 'value', message: `${name} must have at least ${plural(Number(params['limit']), 'item')}` };
    case 'maxItems':
      return { path, at: 'value', message: `${name} must have at most ${plural(Number(params['limit']), 'item')}` };
    case 'minProperties':
      return { path, at: 'value', message: `${name} must have at least ${plural(Number(params['limit']), 'key')}` };
    case 'maxProperties':
      return { path, at: 'value', message: `${name} must have at most ${plural(Number(params['limit']), 'key')}` };
    case 'minLength':
      return {
        path,
        at: 'value',
        message:
          params['limit'] === 1
            ? `${name} must not be empty`
            : `${name} must be at least ${plural(Number(params['limit']), 'character')} long`,
      };
    case 'maxLength':
      return { path, at: 'value', message: `${name} must be at most ${plural(Number(params['limit']), 'character')} long` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        at: 'value',
        message: `${name} must be ${String(params['comparison'])} ${String(params['limit'])}, got ${describe(value)}`,
      };
    case 'multipleOf':
      return { path, at: 'value', message: `${name} must be a multiple of ${String(params['multipleOf'])}` };
    case 'uniqueItems': {
      const [first, second] = [Number(params['i']), Number(params['j'])].sort((a, b) => a - b);
      return { path, at: 'value', message: `${name} must not repeat items (items ${first} and ${second} are equal)` };
    }
    case 'propertyNames':
      // Its sub-error, reported separately, already names the offending key.
      return undefined;
    case 'anyOf':
    case 'oneOf':
      return { path, at: 'value', message: `${name} matches more than one of the allowed forms` };
    default:
      return { path, at: 'value', message: `${name} ${error.message ?? 'is invalid'}` };
  }
}

// A misspelt key is usually also a missing one ("rnu:" leaves a step without "run:"); the
// unknown-key problem already says so, with the fix, so the missing-key one is dropped.
function finish(problems: readonly Problem[], data: unknown): SchemaProblem[] {
  const fixes = new Map<string, Set<string>>();
  for (const p of problems) {
    if (p.unknownSuggestion === undefined) continue;
    const id = JSON.stringify(p.path.slice(0, -1));
    fixes.set(id, (fixes.get(id) ?? new Set()).add(p.unknownSuggestion));
  }
  const seen = new Set<string>();
  const out: { problem: SchemaProblem; order: number[]; index: number }[] = [];
  problems.forEach((p, index) => {
    if (p.missing && p.missing.some((k) => fixes.get(JSON.stringify(p.path))?.has(k))) return;
    const id = p.wrongType ? JSON.stringify([p.path, 'type']) : JSON.stringify([p.path, p.message]);
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ problem: { path: p.path, message: p.message, at: p.at }, order: documentOrder(p.path, data), index });
  });
  out.sort((a, b) => compareOrder(a.order, b.order) || a.index - b.index);
  return out.map((o) => o.problem);
}

// Position of each path segment among its siblings, so problems come out in the order
// their places appear in the file.
function documentOrder(path: readonly Segment[], data: unknown): number[] {
  const order: number[] = [];
  let value = data;
  for (const seg of path) {
    if (typeof seg === 'number') order.push(seg);
    else order.push(isObject(value) ? Object.keys(value).indexOf(seg) : -1);
    value = childValue(value, seg);
  }
  return order;
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
