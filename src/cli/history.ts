import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import type { Store, StoredEvent, StoredRun } from '../store/store.js';
import { formatTime, parseLimit, placesOf, withStoredData } from './stored.js';

/** The flags of `trig history`, as commander gives them. */
export interface HistoryFlags {
  limit?: string;
  all?: boolean;
  defs?: string[];
  json?: boolean;
}

export const HISTORY_LIMIT = 20;

interface Decided {
  event: StoredEvent;
  /** The runs the event started, by definition file and name. */
  runs: Map<string, StoredRun>;
}

const runKey = (file: string, definition: string) => `${file}\0${definition}`;

async function decided(store: Store, event: StoredEvent): Promise<Decided> {
  const runs = new Map<string, StoredRun>();
  for (const id of event.runs) {
    const found = await store.findRun(id);
    if ('found' in found) runs.set(runKey(found.found.file, found.found.definition), found.found);
  }
  return { event, runs };
}

function eventJson({ event, runs }: Decided): Record<string, unknown> {
  return {
    id: event.id,
    name: event.name,
    source: event.source,
    at: event.at.toISOString(),
    deliveryKey: event.deliveryKey,
    replayOf: event.replayOf,
    places: event.places,
    details: event.details,
    decided: event.dispatched,
    decisions: event.decisions.map((d) => {
      const run = runs.get(runKey(d.file, d.definition));
      return { ...d, ...(run ? { run: { id: run.id, status: run.status } } : {}) };
    }),
  };
}

function eventText({ event, runs }: Decided): string {
  const head = [event.id, formatTime(event.at), oneLine(event.name), `from ${event.source}`];
  if (event.deliveryKey !== null) head.push(`delivery ${oneLine(event.deliveryKey)}`);
  if (event.replayOf) head.push(`replay of ${event.replayOf}`);
  const lines = [head.join('  ')];
  if (!event.dispatched) lines.push('  not decided: the trig process that received it stopped first');
  for (const d of event.decisions) {
    const run = runs.get(runKey(d.file, d.definition));
    const started = run ? ` → run ${run.id} ${run.status}` : '';
    lines.push(`  ${oneLine(d.definition)}: ${d.matched ? '' : 'not matched: '}${oneLine(d.reason)}${started}`);
  }
  if (event.dispatched && !event.decisions.length) lines.push('  no definitions');
  return lines.map((l) => `${l}\n`).join('');
}

/** `trig history`: the events received, newest first, with what each matched and the runs it started (or JSON: schemas/history-output.schema.json). */
export async function runHistory(flags: HistoryFlags, io: Output): Promise<number> {
  const limit = parseLimit(flags.limit, HISTORY_LIMIT);
  const places = placesOf(flags);
  return withStoredData(io, flags.json ? { json: { events: [] } } : undefined, async (store) => {
    const events = await store.listEvents({ limit, ...(places ? { places } : {}) });
    const all = await Promise.all(events.map((event) => decided(store, event)));
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ events: all.map(eventJson) }, null, 2)}\n`);
      return 0;
    }
    if (!all.length) {
      io.stdout.write(places ? 'no events here yet (trig history --all shows those of every place)\n' : 'no events recorded\n');
      return 0;
    }
    io.stdout.write(all.map(eventText).join(''));
    return 0;
  });
}
