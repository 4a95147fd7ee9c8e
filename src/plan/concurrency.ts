// A definition's concurrency group, resolved for one event: `concurrency: ci-<+trigger.branch>`
// or `concurrency: {group: …, cancel-in-progress: …}`. The store holds runs back by this
// name (store/store.ts, guarantee 3); the validator (validate/rules/concurrency.ts) has
// already refused an empty group and expressions trig cannot resolve before the run.

import { isRecord } from '../shared/records.js';
import { resolveString, type ResolveScope } from '../resolve/expressions.js';

export interface ConcurrencyGroup {
  name: string;
  cancelInProgress: boolean;
}

export type PlannedConcurrency =
  { group?: ConcurrencyGroup; problems: string[]; stop?: undefined } | { stop: string; secrets: string[]; problems?: undefined };

/** The group's text and its cancel-in-progress as written, from either form. */
function written(value: unknown): { group: unknown; cancel: unknown } {
  if (isRecord(value)) return { group: value.group, cancel: value['cancel-in-progress'] };
  return { group: value, cancel: undefined };
}

export function planConcurrency(value: unknown, scope: ResolveScope): PlannedConcurrency {
  if (value === undefined || value === null) return { problems: [] };
  const { group, cancel } = written(value);
  if (typeof group !== 'string') return { problems: [] };
  const resolved = resolveString(group, scope);
  // A group name is stored with the run and shown by trig runs: never a secret value.
  if (resolved.secrets.length) {
    return { stop: `concurrency group ${JSON.stringify(group)} would hold a secret value`, secrets: resolved.secrets };
  }
  if (resolved.value.trim() === '') {
    return { stop: `concurrency group ${JSON.stringify(group)} is empty for this event`, secrets: [] };
  }
  let cancelInProgress = false;
  if (typeof cancel === 'boolean') cancelInProgress = cancel;
  else if (typeof cancel === 'string') {
    const text = resolveString(cancel, scope);
    const answer = text.value.trim();
    if (answer !== 'true' && answer !== 'false') {
      return {
        stop: `concurrency cancel-in-progress ${JSON.stringify(cancel)} is ${JSON.stringify(answer)} for this event, not true or false`,
        secrets: text.secrets,
      };
    }
    cancelInProgress = answer === 'true';
  }
  return { group: { name: resolved.value, cancelInProgress }, problems: resolved.problems.map((p) => `concurrency: ${p}`) };
}
