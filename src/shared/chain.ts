// The chain of runs that led to an event: what the fire core carries from a run's end to
// the event it fires (fire/chain.ts), the store keeps and the report shows.

/**
 * One run that led to a chained event: the event that started it (stored id and name), the
 * run, and its definition. A chained event's chain lists them oldest first; its last link
 * is the run whose end fired it.
 */
export interface ChainLink {
  /** The stored event that started the run; absent when that fire was not remembered. */
  eventId?: string;
  event: string;
  runId: string;
  definition: string;
  /** The definition's file, absolute. */
  file: string;
}
