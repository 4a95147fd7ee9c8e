// Evaluates the filters of one `on:` entry against one trigger context. What a filter
// means comes from the catalog (its `kind` and the `field` it reads), so a new event or
// filter in the catalog needs no change here.

import { eventSpec, type EventSpec, type FilterSpec } from '../catalog/events.js';
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

function globsCheck(key: string, spec: FilterSpec, raw: unknown, fields: Record<string, unknown>, env: FilterEnv): FilterCheck {
  const field = spec.field!;
  const value = fields[field];
  if (missing(value)) return fail(key, `the event carries no "${field}"`);
  const text = scalar(value);
  if (text === undefined) return fail(key, `"${field}" is not a single value`);
  const patterns = filterValues(raw);
  const result = env.patterns(patterns).match(text);
  if (spec.kind === 'globs-ignore') {
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

function pathsCheck(key: string, spec: FilterSpec, raw: unknown, fields: Record<string, unknown>, env: FilterEnv): FilterCheck {
  const files = changedFilesOf(fields, spec.field!);
  // Without the list of changed files nothing says the paths were touched, so a path
  // filter (either kind) never lets such an event through.
  if (files.length === 0) return fail(key, `the event carries no changed files ("${spec.field}"), so a path filter cannot pass`);
  const patterns = filterValues(raw);
  const list = env.patterns(patterns);
  if (spec.kind === 'paths') {
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

function typesCheck(key: string, allowed: readonly string[], fields: Record<string, unknown>, suffix: string): FilterCheck {
  const action = fields.action;
  if (missing(action)) return fail(key, `the event carries no "action"${suffix}`);
  const text = scalar(action) ?? '';
  return allowed.includes(text) ? pass(key) : fail(key, `action "${text}" is not one of ${show(allowed)}${suffix}`);
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
}

function scheduleItem(value: unknown): ScheduleItem[] {
  if (typeof value !== 'object' || value === null) return [];
  const map = value as Record<string, unknown>;
  const timezone = typeof map.timezone === 'string' ? map.timezone : undefined;
  const name = typeof map.name === 'string' ? map.name : undefined;
  return filterValues(map.cron).map((cron) => ({
    cron,
    ...(timezone !== undefined ? { timezone } : {}),
    ...(name !== undefined ? { name } : {}),
  }));
}

/**
 * The schedule items of an entry: the entry's own `{cron, timezone, name}` (with `cron`
 * one expression or a list sharing the zone and name), or a list of such items, as in
 * GitHub's `schedule: [{cron: ...}]`.
 */
export function scheduleItems(filters: unknown): ScheduleItem[] {
  return Array.isArray(filters) ? filters.flatMap(scheduleItem) : scheduleItem(filters);
}

function minuteStamp(at: Date): string {
  return `${at.toISOString().slice(0, 16)}Z`;
}

function scheduleCheck(
  filters: unknown,
  context: TriggerContext,
  at: Date,
): { check: FilterCheck; context: TriggerContext } {
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
  const fields = new Set(Object.values(spec.filters).filter((f) => f.kind === 'globs').map((f) => f.field));
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
  let matchedContext = context;
  const refPair = hasRefPair(spec);
  const kind = refPair ? refKind(fields) : undefined;
  const entryRefFields = new Set(
    keys.map((k) => spec.filters[k]).filter((f) => f && (f.field === 'branch' || f.field === 'tag')).map((f) => f!.field),
  );
  let scheduleDone = false;
  let typesGiven = false;

  for (const key of keys) {
    const filter = spec.filters[key];
    const raw = entry.filters[key];
    if (!filter) {
      checks.push(fail(key, `not a filter of ${entry.event}`));
      continue;
    }
    switch (filter.kind) {
      case 'globs':
      case 'globs-ignore': {
        if (refPair && (filter.field === 'branch' || filter.field === 'tag')) {
          // GitHub push rule: an entry with only branch filters never runs for a tag and
          // one with only tag filters never runs for a branch; with both, the filters of
          // the ref's own kind decide and the others do not apply.
          if (kind && kind !== filter.field) {
            if (entryRefFields.has(kind)) {
              checks.push(pass(key));
            } else {
              checks.push(
                fail(
                  key,
                  `the event is for ${kind} ${JSON.stringify(fields[kind])}, and this entry filters only ${REF_GROUP_NAME[filter.field]}`,
                ),
              );
            }
            continue;
          }
        }
        checks.push(globsCheck(key, filter, raw, fields, env));
        break;
      }
      case 'paths':
      case 'paths-ignore':
        // GitHub does not evaluate path filters for pushes of tags.
        if (refPair && kind === 'tag') checks.push(pass(key));
        else checks.push(pathsCheck(key, filter, raw, fields, env));
        break;
      case 'types':
        typesGiven = true;
        checks.push(typesCheck(key, filterValues(raw), fields, ''));
        break;
      case 'one-of':
        checks.push(oneOfCheck(key, filter, raw, fields));
        break;
      case 'at-least':
        checks.push(atLeastCheck(key, filter, raw, fields));
        break;
      case 'schedule':
        // cron, timezone and name describe one schedule together: one check for all of them.
        if (!scheduleDone) {
          scheduleDone = true;
          const result = scheduleCheck(entry.raw, context, env.at);
          checks.push(result.check);
          matchedContext = result.context;
        }
        break;
      case 'dispatch-inputs':
        // Inputs describe the manual run's form; they never stop a run.
        checks.push(pass(key));
        break;
    }
  }

  const schedules = Object.values(spec.filters).some((f) => f.kind === 'schedule');
  if (schedules && !scheduleDone) {
    const result = scheduleCheck(entry.raw, context, env.at);
    checks.push(result.check);
    matchedContext = result.context;
  }
  if (!typesGiven && spec.defaultTypes) {
    checks.push(typesCheck('types', spec.defaultTypes, fields, ` (the default for ${spec.name})`));
  }
  return { checks, context: matchedContext };
}
