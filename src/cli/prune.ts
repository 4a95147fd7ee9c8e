import { parseDuration } from '../shared/duration.js';
import { UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { formatTime, withStoredData } from './stored.js';

/** The flags of `trig prune`, as commander gives them. */
export interface PruneFlags {
  olderThan?: string;
  keep?: string;
  json?: boolean;
}

/** Without --older-than or --keep, prune removes what is older than this. */
export const PRUNE_OLDER_THAN = '30d';

function parseKeep(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--keep "${oneLine(text)}": expected a whole number of events`);
  }
  return n;
}

/** `trig prune`: removes old events with their runs and logs (never a run that is not over), and says what it removed. */
export async function runPrune(flags: PruneFlags, io: Output): Promise<number> {
  const keep = parseKeep(flags.keep);
  const olderThan = flags.olderThan ?? (keep === undefined ? PRUNE_OLDER_THAN : undefined);
  const olderThanMs = olderThan === undefined ? undefined : parseDuration(olderThan);
  if (olderThan !== undefined && olderThanMs === undefined) {
    throw new UsageError(`--older-than "${oneLine(olderThan)}": expected a duration such as 12h, 30d`);
  }
  const before = olderThanMs === undefined ? undefined : new Date(Date.now() - olderThanMs);
  const empty = {
    removed: { events: 0, runs: 0 },
    ...(before ? { before: before.toISOString() } : {}),
    ...(keep !== undefined ? { keep } : {}),
  };
  return withStoredData(io, flags.json ? { json: empty } : undefined, async (store) => {
    const removed = await store.prune({ ...(before ? { before } : {}), ...(keep !== undefined ? { keep } : {}) });
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ ...empty, removed }, null, 2)}\n`);
      return 0;
    }
    const what = [before ? `received before ${formatTime(before)}` : '', keep !== undefined ? `beyond the newest ${keep}` : '']
      .filter(Boolean)
      .join(' or ');
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    io.stdout.write(
      `removed ${plural(removed.events, 'event')} and ${plural(removed.runs, 'run')} with their logs (events ${what}; runs not over are kept)\n`,
    );
    return 0;
  });
}
