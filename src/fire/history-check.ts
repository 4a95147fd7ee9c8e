// What an edit of the definitions changes: recorded events decided again against the
// definitions as they are now, and compared with what was decided when they came
// (`trig validate --against-history`). Deciding only: nothing is planned, run or recorded.

import path from 'node:path';
import { eventSpec } from '../catalog/events.js';
import { buildTriggerContexts } from '../match/context.js';
import { decideDefinitions } from '../match/decide.js';
import { isRecord } from '../shared/records.js';
import type { DecisionRecord, StoredEvent } from '../store/store.js';
import type { CheckResult } from '../validate/check.js';

/** A definition whose run an event would now start and did not then, or started then and would not now. */
export interface RunChange {
  change: 'appears' | 'disappears';
  /** Absolute, as recorded. */
  file: string;
  definition: string;
  /** Why it matched or did not then; null when it was not among the definitions then. */
  then: string | null;
  /** Why it would or would not now; null when it is not among the definitions now. */
  now: string | null;
}

export interface EventComparison {
  event: StoredEvent;
  /** Why the event was not compared (its fire never decided; an event or payload trig cannot decide on today). */
  notCompared?: string;
  /** Empty: the event would start the same runs today. */
  changes: RunChange[];
}

/**
 * The detail a replay records: the time its event was decided at (the replayed event's),
 * when that is not the time it was received. A schedule event is decided again at it.
 */
export const DECIDED_AT = 'decidedAt';

/** When an event was decided: a replay at its replayed event's time, any other at its own. */
export function decidedAt(event: Pick<StoredEvent, 'at' | 'details'>): Date {
  const recorded = event.details[DECIDED_AT];
  const date = typeof recorded === 'string' ? new Date(recorded) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : event.at;
}

const key = (file: string, definition: string) => `${file}\n${definition}`;

/** Each event decided against `checked` (files resolved against cwd), compared with its recorded decisions. */
export function compareWithHistory(
  events: readonly StoredEvent[],
  checked: CheckResult,
  options: { cwd: string; strict: boolean },
): EventComparison[] {
  return events.map((event) => {
    if (!event.dispatched) return { event, notCompared: 'its fire stopped before deciding', changes: [] };
    if (!eventSpec(event.name)) return { event, notCompared: `trig no longer knows the event "${event.name}"`, changes: [] };
    if (!isRecord(event.payload)) return { event, notCompared: 'its payload is not a JSON object', changes: [] };
    const decisions = decideDefinitions(checked, buildTriggerContexts(event.name, event.payload), {
      at: decidedAt(event),
      strict: options.strict,
    });
    const now = new Map<string, DecisionRecord>();
    for (const d of decisions) {
      const file = path.resolve(options.cwd, d.file);
      now.set(key(file, d.name), { file, definition: d.name, matched: d.matched, reason: d.reason });
    }
    const then = new Map(event.decisions.map((d) => [key(d.file, d.definition), d]));
    const changes: RunChange[] = [];
    // The recorded definitions in their order, then those that are new.
    for (const k of new Set([...then.keys(), ...now.keys()])) {
      const before = then.get(k);
      const after = now.get(k);
      if (Boolean(before?.matched) === Boolean(after?.matched)) continue;
      const { file, definition } = (before ?? after)!;
      changes.push({
        change: after?.matched ? 'appears' : 'disappears',
        file,
        definition,
        then: before?.reason ?? null,
        now: after?.reason ?? null,
      });
    }
    return { event, changes };
  });
}
