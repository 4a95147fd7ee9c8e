// Not through fire/index.js: that would load the whole fire core to read the store.
import { checkEvent } from '../catalog/events.js';
import { formatDuration, parseDuration } from '../shared/duration.js';
import { UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { suggest } from '../shared/suggest.js';
import { RUN_STATUSES, type RunFilter, type StoredRunStatus } from '../store/store.js';
import { alignedRows, formatTime, parseLimit, placesOf, runDurationMs, runJson, runResult, withStoredData } from './stored.js';

/** The flags of `trig runs`, as commander gives them. */
export interface RunsFlags {
  limit?: string;
  status?: string;
  definition?: string;
  event?: string;
  since?: string;
  all?: boolean;
  defs?: string[];
  json?: boolean;
}

export const RUNS_LIMIT = 20;

function parseStatus(status: string | undefined): StoredRunStatus | undefined {
  if (status === undefined) return undefined;
  if ((RUN_STATUSES as readonly string[]).includes(status)) return status as StoredRunStatus;
  const guess = suggest(status, RUN_STATUSES);
  throw new UsageError(
    `--status "${oneLine(status)}": not a run status${guess ? `; did you mean "${guess}"?` : ''} (one of ${RUN_STATUSES.join(', ')})`,
  );
}

function parseSince(since: string | undefined, now: number): Date | undefined {
  if (since === undefined) return undefined;
  const ms = parseDuration(since);
  if (ms === undefined) throw new UsageError(`--since "${oneLine(since)}": expected a duration such as 90m, 12h or 7d`);
  return new Date(now - ms);
}

/** The store's filter the flags describe; every usage error is found here, before the store is opened. */
export function runFilter(flags: RunsFlags, now = Date.now()): RunFilter {
  const status = parseStatus(flags.status);
  if (flags.event !== undefined) checkEvent(flags.event);
  const since = parseSince(flags.since, now);
  const places = placesOf(flags);
  return {
    limit: parseLimit(flags.limit, RUNS_LIMIT),
    ...(status ? { status } : {}),
    ...(flags.definition !== undefined ? { definition: flags.definition } : {}),
    ...(flags.event !== undefined ? { event: flags.event } : {}),
    ...(since ? { since } : {}),
    ...(places ? { places } : {}),
  };
}

/** `trig runs`: the stored runs, newest first, one aligned line each (or JSON: schemas/runs-output.schema.json). */
export async function runRuns(flags: RunsFlags, io: Output): Promise<number> {
  const filter = runFilter(flags);
  return withStoredData(io, flags.json ? { json: { runs: [] } } : undefined, async (store) => {
    const runs = await store.listRuns(filter);
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ runs: runs.map(runJson) }, null, 2)}\n`);
      return 0;
    }
    if (!runs.length) {
      const narrowed = filter.status || filter.definition || filter.event || filter.since;
      io.stdout.write(
        narrowed
          ? 'no runs match\n'
          : filter.places
            ? 'no runs of the definitions here (trig runs --all shows those of every place)\n'
            : 'no runs recorded\n',
      );
      return 0;
    }
    const rows = runs.map((run) => {
      const duration = runDurationMs(run);
      return [
        run.id,
        run.status,
        oneLine(run.definition),
        oneLine(run.eventName),
        formatTime(run.startedAt ?? run.queuedAt),
        duration === null ? '-' : formatDuration(duration),
        runResult(run),
      ];
    });
    io.stdout.write(alignedRows([['RUN', 'STATUS', 'DEFINITION', 'EVENT', 'STARTED', 'DURATION', 'RESULT'], ...rows]));
    return 0;
  });
}
