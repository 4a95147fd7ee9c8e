// The match stage: given a definition's `on:` entries and the contexts of an event,
// decide whether the definition runs, on which entry, and why (or why not).

import type { TriggerEntry } from '../load/triggers.js';
import type { TriggerContext } from './context.js';
import { evaluateEntry, type FilterEnv } from './filters.js';
import { compilePatternList, type PatternList } from '../lang/glob.js';

export interface MatchDecision {
  matched: boolean;
  /** The entry that matched, or the closest one when none did. */
  entry?: TriggerEntry;
  /** The context matched (a copy with `scheduleName`/`cron` for schedules), or the closest one's. */
  context?: TriggerContext;
  reason: string;
}

export interface Matcher {
  match(entries: TriggerEntry[], contexts: TriggerContext[]): MatchDecision;
}

function distinct(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/**
 * A matcher for one instant (schedules are evaluated at `at`). It compiles each distinct
 * pattern list once and reuses it across definitions, so matching many definitions
 * against one event stays cheap. It does no I/O.
 */
export function createMatcher(options: { at: Date }): Matcher {
  const cache = new Map<string, PatternList>();
  const env: FilterEnv = {
    at: options.at,
    patterns(list) {
      const key = JSON.stringify(list);
      let compiled = cache.get(key);
      if (!compiled) {
        compiled = compilePatternList(list);
        cache.set(key, compiled);
      }
      return compiled;
    },
  };

  return {
    match(entries, contexts) {
      // The closest miss: fewest failing filters; earlier contexts and entries win ties.
      let closest: { failures: number; entry: TriggerEntry; context: TriggerContext; reason: string } | undefined;
      for (const context of contexts) {
        for (const entry of entries) {
          if (entry.event !== context.event) continue;
          const { checks, context: matched } = evaluateEntry(entry, context, env);
          const failed = checks.filter((c) => !c.pass);
          if (failed.length === 0) return { matched: true, entry, context: matched, reason: `matched on: ${entry.label}` };
          if (!closest || failed.length < closest.failures) {
            closest = { failures: failed.length, entry, context, reason: failed[0]!.reason! };
          }
        }
      }
      if (closest) return { matched: false, entry: closest.entry, context: closest.context, reason: closest.reason };
      const events = distinct(contexts.map((c) => c.event)).join(' or ') || 'this event';
      const listened = distinct(entries.map((e) => e.event));
      const on = listened.length ? `on: ${listened.join(', ')}` : 'the definition has no on: entries';
      return { matched: false, reason: `no entry listens to ${events} (${on})` };
    },
  };
}
