// `trig validate --against-history [N]`: the last N recorded events decided again against
// the definitions as they are now, and per event the runs that would appear or disappear
// (fire/history-check.ts). Loaded only with the flag: plain `trig validate` never opens the store.

import path from 'node:path';
import { compareWithHistory, type EventComparison, type RunChange } from '../fire/history-check.js';
import { openStore } from '../fire/index.js';
import { DEFAULT_DEFINITIONS_DIR } from '../load/paths.js';
import { displayPath } from '../shared/display-path.js';
import { EXIT, UsageError } from '../shared/errors.js';
import { noticesTo, type Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { plural } from '../shared/records.js';
import { loadDefinitions } from '../validate/definitions.js';

export const DEFAULT_HISTORY_EVENTS = 100;

export interface AgainstHistoryOptions {
  /** The option's value: true when given without N. */
  againstHistory: string | true;
  /** Every recorded event, not only those of these definitions' places. */
  all?: boolean;
  format: 'text' | 'json' | 'github';
  /** Exit 1 when any event would change. */
  strict?: boolean;
  cache?: boolean;
}

export function parseEventCount(value: string | true): number {
  if (value === true) return DEFAULT_HISTORY_EVENTS;
  const n = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(n) && n >= 1) return n;
  throw new UsageError(
    `--against-history "${oneLine(value)}": expected a number of events${/^\d+$/.test(value) ? ' (at least 1)' : '; paths go before the option (trig validate defs/ --against-history)'}`,
  );
}

/** How a definition is named in a change line: its name, with its file when the event's changes name it in two files. */
function definitionLabel(change: RunChange, changes: readonly RunChange[], cwd: string): string {
  const ambiguous = changes.some((c) => c.definition === change.definition && c.file !== change.file);
  return ambiguous ? `${oneLine(displayPath(change.file, cwd))}: ${oneLine(change.definition)}` : oneLine(change.definition);
}

function changeLine(change: RunChange, changes: readonly RunChange[], cwd: string): string {
  const label = definitionLabel(change, changes, cwd);
  if (change.change === 'appears') return `  + ${label} (would now run: ${oneLine(change.now ?? '')})\n`;
  return `  - ${label} (ran then; now: ${change.now === null ? 'not among the definitions' : oneLine(change.now)})\n`;
}

function eventHeading(c: EventComparison): string {
  const { event } = c;
  const extras = [
    ...(event.deliveryKey !== null ? [`delivery ${oneLine(event.deliveryKey)}`] : []),
    ...(event.replayOf !== null ? [`replay of ${event.replayOf}`] : []),
  ];
  return `${event.id} ${oneLine(event.name)} from ${event.source} at ${event.at.toISOString()}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

interface Summary {
  events: number;
  changed: number;
  unchanged: number;
  notCompared: number;
}

function summarize(comparisons: readonly EventComparison[]): Summary {
  const notCompared = comparisons.filter((c) => c.notCompared !== undefined).length;
  const changed = comparisons.filter((c) => c.changes.length).length;
  return { events: comparisons.length, changed, unchanged: comparisons.length - changed - notCompared, notCompared };
}

export function formatHistoryText(comparisons: readonly EventComparison[], where: string, cwd: string): string {
  if (!comparisons.length) return `no recorded events ${where}: nothing to compare\n`;
  let out = '';
  for (const c of comparisons) {
    if (c.notCompared !== undefined) out += `${eventHeading(c)}: not compared: ${oneLine(c.notCompared)}\n`;
    else if (c.changes.length) out += `${eventHeading(c)}\n${c.changes.map((change) => changeLine(change, c.changes, cwd)).join('')}`;
  }
  const s = summarize(comparisons);
  const parts = [`${s.changed} would change`, `${s.unchanged} unchanged`, ...(s.notCompared ? [`${s.notCompared} not compared`] : [])];
  return `${out}${plural(s.events, 'event')} ${where}: ${parts.join(', ')}\n`;
}

/** The document schemas/validate-history.schema.json describes. */
export function formatHistoryJson(comparisons: readonly EventComparison[], definitions: number): string {
  const document = {
    format: 1,
    definitions,
    events: comparisons.map(({ event, notCompared, changes }) => ({
      id: event.id,
      name: event.name,
      source: event.source,
      at: event.at.toISOString(),
      ...(event.deliveryKey !== null ? { deliveryKey: event.deliveryKey } : {}),
      ...(event.replayOf !== null ? { replayOf: event.replayOf } : {}),
      ...(notCompared !== undefined ? { notCompared } : {}),
      changes,
    })),
    summary: summarize(comparisons),
  };
  return JSON.stringify(document, null, 2) + '\n';
}

export async function runAgainstHistory(paths: string[], options: AgainstHistoryOptions, io: Output): Promise<number> {
  const limit = parseEventCount(options.againstHistory);
  if (options.format === 'github') throw new UsageError('--against-history prints text or json, not github annotations');
  const cwd = process.cwd();
  const { checked } = await loadDefinitions(paths, { cache: options.cache, env: process.env, notice: noticesTo(io.stderr) });
  const places = (paths.length ? paths : [DEFAULT_DEFINITIONS_DIR]).map((p) => path.resolve(cwd, p));
  const store = await openStore(process.env);
  let events;
  try {
    events = await store.listEvents({ limit, ...(options.all ? {} : { places }) });
  } finally {
    store.close();
  }
  const comparisons = compareWithHistory(events, checked, { cwd, strict: false });
  const where = options.all ? 'in the store' : `for ${places.map((p) => oneLine(displayPath(p, cwd))).join(', ')}`;
  io.stdout.write(
    options.format === 'json' ? formatHistoryJson(comparisons, checked.definitions.length) : formatHistoryText(comparisons, where, cwd),
  );
  return options.strict && comparisons.some((c) => c.changes.length) ? EXIT.problems : EXIT.ok;
}
