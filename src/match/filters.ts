// Evaluates the filters of one `on:` entry against one trigger context. What a filter
// means comes from the catalog (its `kind` and the `field` it reads), so a new event or
// filter of an existing kind needs no change here; a new kind needs its matcher in
// MATCHERS, which the compiler asks for.

import { eventSpec, type EventSpec, type FilterSpec } from '../catalog/events.js';
import type { FilterKind } from '../catalog/filter-kinds.js';
import { isRecord, toNumber } from '../shared/records.js';
import type { TriggerEntry } from '../load/triggers.js';
import type { TriggerContext } from './context.js';
import type { PatternList } from '../lang/glob.js';
import { isDue } from '../lang/cron.js';

export interface FilterCheck {
  /** The filter key as written (`branches`), or `types`/`schedule` for the implicit checks. */
  filter: string;
  pass: boolean;
  /** Why the filter did not pass, prefixed with the filter: `branches: "x" matched none of [main]`. */
  reason?: string;
}

export interface EntryEvaluation {
  checks: FilterCheck[];
  /** The context the entry matched with: the given one, or a copy with schedule fields added. */
  context: TriggerContext;
}

export interface FilterEnv {
  /** Compiled pattern lists, cached by the caller. */
  patterns(list: readonly string[]): PatternList;
  at: Date;
}

/** A filter value as a list: filters accept one string or a list of strings. */
export function filterValues(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) =>
    typeof item === 'string' ? [item] : typeof item === 'number' || typeof item === 'boolean' ? [String(item)] : [],
  );
}

const show = (list: readonly string[]): string => `[${list.join(', ')}]`;

function missing(fieldValue: unknown): boolean {
  return fieldValue === undefined || fieldValue === null || fieldValue === '';
}

function scalar(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

const pass = (filter: string): FilterCheck => ({ filter, pass: true });
const fail = (filter: string, reason: string): FilterCheck => ({ filter, pass: false, reason: `${filter}: ${reason}` });

/** `globs` (the field must match) or, with `ignore`, `globs-ignore` (it must not). */
function globsCheck(
  key: string,
  spec: FilterSpec,
  raw: unknown,
  fields: Record<string, unknown>,
  env: FilterEnv,
  ignore: boolean,
): FilterCheck {
  const field = spec.field!;
  const value = fields[field];
  if (missing(value)) return fail(key, `the event carries no "${field}"`);
  const text = scalar(value);
  if (text === undefined) return fail(key, `"${field}" is not a single value`);
  const patterns = filterValues(raw);
  const result = env.patterns(patterns).match(text);
  if (ignore) {
    return result.included ? fail(key, `"${text}" is ignored by ${result.by}`) : pass(key);
  }
  if (result.included) return pass(key);
  return result.by ? fail(key, `"${text}" is excluded by ${result.by}`) : fail(key, `"${text}" matched none of ${show(patterns)}`);
}

function changedFilesOf(fields: Record<string, unknown>, field: string): string[] {
  const value = fields[field];
  if (typeof value === 'string') return value ? [value] : [];
  return Array.isArray(value) ? value.filter((f): f is string => typeof f === 'string') : [];
}

function listFiles(files: readonly string[]): string {
  return files.length > 3 ? `${files.slice(0, 3).join(', ')}, …` : files.join(', ');
}

/** `paths` (some changed file must match) or, with `ignore`, `paths-ignore` (some must not). */
function pathsCheck(
  key: string,
  spec: FilterSpec,
  raw: unknown,
  fields: Record<string, unknown>,
  env: FilterEnv,
  ignore: boolean,
): FilterCheck {
  const files = changedFilesOf(fields, spec.field!);
  // Without the list of changed files nothing says the paths were touched, so a path
  // filter (either kind) never lets such an event through.
  if (files.length === 0) return fail(key, `the event carries no changed files ("${spec.field}"), so a path filter cannot pass`);
  const patterns = filterValues(raw);
  const list = env.patterns(patterns);
  if (!ignore) {
    // One included file is enough: the push touched the paths of interest.
    if (files.some((file) => list.match(file).included)) return pass(key);
    return files.length === 1
      ? fail(key, `the changed file ${JSON.stringify(files[0])} matched none of ${show(patterns)}`)
      : fail(key, `none of the ${files.length} changed files (${listFiles(files)}) matched ${show(patterns)}`);
  }
  // paths-ignore skips the event only when every changed file is ignored.
  if (files.every((file) => list.anyMatch(file))) {
    return files.length === 1
      ? fail(key, `the changed file ${JSON.stringify(files[0])} is ignored by ${show(patterns)}`)
      : fail(key, `all ${files.length} changed files (${listFiles(files)}) are ignored by ${show(patterns)}`);
  }
  return pass(key);
}

/**
 * The activity type (the `field` of the event's types filter: `action`) is one of `allowed`;
 * a list field (file_change's `changeTypes`: the kinds of change in the batch) passes when
 * any of its items is.
 */
function typesCheck(key: string, allowed: readonly string[], field: string, fields: Record<string, unknown>, suffix: string): FilterCheck {
  const value = fields[field];
  if (Array.isArray(value)) {
    const items = value.map(scalar).filter((v): v is string => v !== undefined);
    if (items.some((item) => allowed.includes(item))) return pass(key);
    return fail(key, `${field} ${show(items)} has none of ${show(allowed)}${suffix}`);
  }
  if (missing(value)) return fail(key, `the event carries no "${field}"${suffix}`);
  const text = scalar(value) ?? '';
  return allowed.includes(text) ? pass(key) : fail(key, `${field} "${text}" is not one of ${show(allowed)}${suffix}`);
}

function oneOfCheck(key: string, spec: FilterSpec, raw: unknown, fields: Record<string, unknown>): FilterCheck {
  const field = spec.field!;
  const value = fields[field];
  if (missing(value)) return fail(key, `the event carries no "${field}"`);
  const text = scalar(value);
  const allowed = filterValues(raw);
  // Severities are words people capitalise freely (`High`, `CRITICAL`).
  if (text !== undefined && allowed.some((a) => a.toLowerCase() === text.toLowerCase())) return pass(key);
  return fail(key, `${JSON.stringify(text ?? value)} is not one of ${show(allowed)}`);
}

function atLeastCheck(key: string, spec: FilterSpec, raw: unknown, fields: Record<string, unknown>): FilterCheck {
  const field = spec.field!;
  const threshold = toNumber(raw);
  if (threshold === undefined) return fail(key, `the threshold ${JSON.stringify(raw)} is not a number`);
  const value = fields[field];
  if (missing(value)) return fail(key, `the event carries no "${field}"`);
  const n = toNumber(value);
  if (n === undefined) return fail(key, `${field} ${JSON.stringify(value)} is not a number`);
  return n >= threshold ? pass(key) : fail(key, `${field} ${n} is below ${threshold}`);
}

export interface ScheduleItem {
  cron: string;
  timezone?: string;
  name?: string;
  /** `catch-up` as written: how far back the cron entry catches up a missed time (integrations/cron/tick.ts). */
  catchUp?: string;
}

function scheduleItem(value: unknown): ScheduleItem[] {
  if (typeof value !== 'object' || value === null) return [];
  const map = value as Record<string, unknown>;
  const timezone = typeof map.timezone === 'string' ? map.timezone : undefined;
  const name = typeof map.name === 'string' ? map.name : undefined;
  const catchUp = typeof map['catch-up'] === 'string' ? map['catch-up'] : undefined;
  return filterValues(map.cron).map((cron) => ({
    cron,
    ...(timezone !== undefined ? { timezone } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(catchUp !== undefined ? { catchUp } : {}),
  }));
}

/**
 * The schedule items of an entry: the entry's own `{cron, timezone, name, catch-up}` (with `cron`
 * one expression or a list sharing the zone and name), or a list of such items, as in
 * GitHub's `schedule: [{cron: ...}]`.
 */
export function scheduleItems(filters: unknown): ScheduleItem[] {
  return Array.isArray(filters) ? filters.flatMap(scheduleItem) : scheduleItem(filters);
}

function minuteStamp(at: Date): string {
  return `${at.toISOString().slice(0, 16)}Z`;
}

/** The minute of `at` as `scheduledAt` gives it (`2026-11-23T09:00:00Z`), as the cron entry's `date -u` writes `--at`. */
export function scheduleMinute(at: Date): string {
  return `${at.toISOString().slice(0, 16)}:00Z`;
}

function scheduleCheck(filters: unknown, context: TriggerContext, at: Date): { check: FilterCheck; context: TriggerContext } {
  const items = scheduleItems(filters);
  if (items.length === 0) return { check: fail('schedule', 'no cron expression is given'), context };
  const missed: { item: ScheduleItem; error?: string }[] = [];
  for (const item of items) {
    let due: boolean;
    try {
      due = isDue(item.cron, item.timezone, at);
    } catch (error) {
      missed.push({ item, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    if (due) {
      // The shared context belongs to every definition being matched: copy, never mutate.
      const fields: Record<string, unknown> = { ...context.fields, cron: item.cron };
      if (item.name !== undefined) fields.scheduleName = item.name;
      // The minute the schedule is due, and whether the cron entry fires it late because
      // the tick was missed (its payload says so, see integrations/cron/tick.ts).
      fields.scheduledAt = scheduleMinute(at);
      fields.caughtUp = context.fields.caughtUp === true;
      return { check: pass('schedule'), context: { event: context.event, fields } };
    }
    missed.push({ item });
  }
  const when = minuteStamp(at);
  if (missed.length === 1) {
    const { item, error } = missed[0]!;
    const reason = error ?? `${JSON.stringify(item.cron)} is not due at ${when} (${item.timezone ?? 'UTC'})`;
    return { check: fail('schedule', reason), context };
  }
  const described = missed.map(({ item, error }) => error ?? `${JSON.stringify(item.cron)} (${item.timezone ?? 'UTC'})`);
  return { check: fail('schedule', `none of ${described.join(', ')} is due at ${when}`), context };
}

/** Both ref fields filtered on one event: the push rule of branches versus tags applies. */
function hasRefPair(spec: EventSpec): boolean {
  const fields = new Set(
    Object.values(spec.filters)
      .filter((f) => f.kind === 'globs')
      .map((f) => f.field),
  );
  return fields.has('branch') && fields.has('tag');
}

const REF_GROUP_NAME: Record<string, string> = { branch: 'branches', tag: 'tags' };

/** Which ref the context is about: a tag when it carries only a tag, else a branch when it carries one. */
function refKind(fields: Record<string, unknown>): 'branch' | 'tag' | undefined {
  if (!missing(fields.branch)) return 'branch';
  if (!missing(fields.tag)) return 'tag';
  return undefined;
}

/**
 * Whether a push deletes its ref: GitHub sends `deleted: true` and an all-zero `after`
 * (and fires `delete` for it too); a flat payload says the same with the same fields.
 */
export function pushDeletesRef(fields: Record<string, unknown>): boolean {
  const raw = isRecord(fields.payload) ? fields.payload : {};
  const zero = (sha: unknown) => typeof sha === 'string' && /^0+$/.test(sha);
  return fields.deleted === true || raw.deleted === true || zero(fields.after) || zero(raw.after);
}

/** What the matchers of one entry share while its filters are evaluated in order. */
interface EntryState {
  readonly entry: TriggerEntry;
  readonly context: TriggerContext;
  readonly env: FilterEnv;
  /** The event filters both branches and tags: GitHub's push rule of one versus the other applies. */
  readonly refPair: boolean;
  /** With `refPair`: which ref the event is about. */
  readonly refKind: 'branch' | 'tag' | undefined;
  /** The ref fields (`branch`, `tag`) this entry filters. */
  readonly entryRefFields: ReadonlySet<string | undefined>;
  typesGiven: boolean;
  scheduleDone: boolean;
  /** The context the entry matches with (a schedule adds its fields). */
  matchedContext: TriggerContext;
}

/** Checks one filter of the entry; nothing when another filter of the entry already checked it. */
type FilterMatcher = (key: string, filter: FilterSpec, raw: unknown, state: EntryState) => FilterCheck | undefined;

/**
 * GitHub push rule: an entry with only branch filters never runs for a tag and one with
 * only tag filters never runs for a branch; with both, the filters of the ref's own kind
 * decide and the others do not apply. Undefined when the rule leaves the filter to its kind.
 */
function refRuleCheck(key: string, filter: FilterSpec, state: EntryState): FilterCheck | undefined {
  if (!state.refPair || (filter.field !== 'branch' && filter.field !== 'tag')) return undefined;
  const kind = state.refKind;
  if (!kind || kind === filter.field) return undefined;
  if (state.entryRefFields.has(kind)) return pass(key);
  const fields = state.context.fields;
  return fail(key, `the event is for ${kind} ${JSON.stringify(fields[kind])}, and this entry filters only ${REF_GROUP_NAME[filter.field]}`);
}

const globsMatcher =
  (ignore: boolean): FilterMatcher =>
  (key, filter, raw, state) =>
    refRuleCheck(key, filter, state) ?? globsCheck(key, filter, raw, state.context.fields, state.env, ignore);

// GitHub does not evaluate path filters for pushes of tags.
const pathsMatcher =
  (ignore: boolean): FilterMatcher =>
  (key, filter, raw, state) =>
    state.refPair && state.refKind === 'tag' ? pass(key) : pathsCheck(key, filter, raw, state.context.fields, state.env, ignore);

/** cron, timezone and name describe one schedule together: one check for all of them. */
function scheduleOnce(state: EntryState): FilterCheck | undefined {
  if (state.scheduleDone) return undefined;
  state.scheduleDone = true;
  const result = scheduleCheck(state.entry.raw, state.context, state.env.at);
  state.matchedContext = result.context;
  return result.check;
}

/**
 * How each kind of filter is matched. A `Record` over every kind: a kind added to the
 * catalog (FILTER_KINDS) does not compile until it has a matcher here.
 */
const MATCHERS: Readonly<Record<FilterKind, FilterMatcher>> = {
  globs: globsMatcher(false),
  'globs-ignore': globsMatcher(true),
  paths: pathsMatcher(false),
  'paths-ignore': pathsMatcher(true),
  types(key, filter, raw, state) {
    state.typesGiven = true;
    return typesCheck(key, filterValues(raw), filter.field ?? 'action', state.context.fields, '');
  },
  'one-of': (key, filter, raw, state) => oneOfCheck(key, filter, raw, state.context.fields),
  'at-least': (key, filter, raw, state) => atLeastCheck(key, filter, raw, state.context.fields),
  schedule: (_key, _filter, _raw, state) => scheduleOnce(state),
  // Inputs describe the manual run's form; they never stop a run.
  'dispatch-inputs': (key) => pass(key),
};

/**
 * Evaluates every filter of `entry` against `context` (the caller has checked that the
 * entry names the context's event). Checks come in the entry's written order, implicit
 * ones (default activity types) last.
 */
export function evaluateEntry(entry: TriggerEntry, context: TriggerContext, env: FilterEnv): EntryEvaluation {
  const spec = eventSpec(entry.event);
  const keys = Object.keys(entry.filters);
  const fields = context.fields;
  if (!spec) {
    // Without a catalog entry no filter has a meaning; the bare event still matches.
    return {
      checks: keys.map((k) => fail(k, `${entry.event} is not a known event, so its filters cannot be evaluated`)),
      context,
    };
  }

  const checks: FilterCheck[] = [];
  // A deleted branch or tag has no commit to run on; GitHub starts no push workflow for it.
  if (entry.event === 'push' && pushDeletesRef(fields)) {
    const ref = scalar(fields.ref) ?? scalar(isRecord(fields.payload) ? fields.payload.ref : undefined);
    checks.push(fail('push', `the push deletes ${ref ? JSON.stringify(ref) : 'its ref'} (GitHub fires "delete" for that, not "push")`));
  }
  const refPair = hasRefPair(spec);
  const state: EntryState = {
    entry,
    context,
    env,
    refPair,
    refKind: refPair ? refKind(fields) : undefined,
    entryRefFields: new Set(
      keys
        .map((k) => spec.filters[k])
        .filter((f) => f && (f.field === 'branch' || f.field === 'tag'))
        .map((f) => f!.field),
    ),
    typesGiven: false,
    scheduleDone: false,
    matchedContext: context,
  };

  for (const key of keys) {
    const filter = spec.filters[key];
    if (!filter) {
      checks.push(fail(key, `not a filter of ${entry.event}`));
      continue;
    }
    const check = MATCHERS[filter.kind](key, filter, entry.filters[key], state);
    if (check) checks.push(check);
  }

  // A schedule is checked even when the entry names none of its keys (`schedule:` alone).
  if (Object.values(spec.filters).some((f) => f.kind === 'schedule')) {
    const check = scheduleOnce(state);
    if (check) checks.push(check);
  }
  if (!state.typesGiven && spec.defaultTypes) {
    const field = spec.filters.types?.field ?? 'action';
    checks.push(typesCheck('types', spec.defaultTypes, field, fields, ` (the default for ${spec.name})`));
  }
  return { checks, context: state.matchedContext };
}
