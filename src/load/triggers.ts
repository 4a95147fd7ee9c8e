// Normalises the three forms of `on:` (a name, a list, a map) into one list of entries,
// each remembering where it stands in the document so diagnostics and explanations can
// point at it.

import { isRecord } from '../shared/records.js';

export type DocPath = (string | number)[];

export interface TriggerEntry {
  /** The event name as written (may be unknown to the catalog; validation reports that). */
  event: string;
  /** The filter map as written; `{}` when the event is given without filters or with a list. */
  filters: Record<string, unknown>;
  /** The value under the event key as written: a map, or for `schedule` possibly a list of items. */
  raw: unknown;
  /** Path of the event name (the string, or the map key) relative to the definition root (`pipeline`/`agent`). */
  path: DocPath;
  /** Whether `path` ends at a map key (the `push:` of `push: {…}`) or at a string value. */
  at: 'key' | 'value';
  /** Text shown to people for this entry: `push`, `pull_request {branches, types}`. */
  label: string;
}

function entry(event: string, filters: unknown, path: DocPath, at: 'key' | 'value'): TriggerEntry {
  const map = isRecord(filters) ? filters : {};
  const keys = Object.keys(map);
  return { event, filters: map, raw: filters, path, at, label: keys.length ? `${event} {${keys.join(', ')}}` : event };
}

/** Entries of a definition's `on:` value; shapes the schema rejects yield no entry. */
export function triggerEntries(on: unknown): TriggerEntry[] {
  if (typeof on === 'string') return [entry(on, undefined, ['on'], 'value')];
  if (Array.isArray(on)) {
    return on.flatMap((item, i): TriggerEntry[] => {
      if (typeof item === 'string') return [entry(item, undefined, ['on', i], 'value')];
      if (isRecord(item)) return Object.entries(item).map(([name, filters]) => entry(name, filters, ['on', i, name], 'key'));
      return [];
    });
  }
  if (isRecord(on)) return Object.entries(on).map(([name, filters]) => entry(name, filters, ['on', name], 'key'));
  return [];
}
