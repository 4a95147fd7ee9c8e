// What the commands that read the store (trig runs, logs, history, prune) share: how they
// open it without creating it, their flags, and how a stored run is shown.

import path from 'node:path';
// Not through fire/index.js: that would load the whole fire core to read the store.
import { openStoreIfAny } from '../fire/record.js';
import { UsageError } from '../shared/errors.js';
import { oneLine } from '../shared/printable.js';
import type { Output } from '../shared/io.js';
import { runDurationMs } from '../store/show.js';
import type { Store, StoredRun } from '../store/store.js';

// Shown as trig serve's page shows them (store/show.ts).
export { formatTime, runDurationMs, runResult } from '../store/show.js';

/** Said (exit 0) when the store's file does not exist: nothing was ever recorded, and nothing is created. */
export const NOTHING_RECORDED = 'no runs recorded yet';

/**
 * Runs `read` on the store, closed afterwards. When there is no store yet: a listing
 * prints NOTHING_RECORDED (or its empty JSON document) and returns 0; a command about one
 * run or event (`missing` is its id) fails as for an id the store does not hold.
 */
export async function withStoredData(
  io: Output,
  empty: { json: unknown } | { missing: string } | undefined,
  read: (store: Store) => Promise<number>,
): Promise<number> {
  const store = await openStoreIfAny(process.env);
  if (!store) {
    if (empty && 'missing' in empty) throw new UsageError(`no run ${oneLine(empty.missing)} (${NOTHING_RECORDED})`);
    io.stdout.write(empty ? `${JSON.stringify(empty.json, null, 2)}\n` : `${NOTHING_RECORDED}\n`);
    return 0;
  }
  try {
    return await read(store);
  } finally {
    store.close();
  }
}

/** --limit: a positive whole number. */
export function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--limit "${oneLine(text)}": expected a positive whole number`);
  }
  return n;
}

/** Where to look (the `places` of the store's filters): --defs (or `.harness/`) here as absolute paths, or everywhere with --all. */
export function placesOf(flags: { all?: boolean; defs?: string[] }): string[] | undefined {
  if (flags.all) {
    if (flags.defs) throw new UsageError('--all and --defs do not go together: --all shows every place');
    return undefined;
  }
  return (flags.defs?.length ? flags.defs : ['.harness']).map((p) => path.resolve(p));
}

/** A stored run as the JSON outputs give it (schemas/runs-output.schema.json, $defs/run). */
export function runJson(run: StoredRun): Record<string, unknown> {
  return {
    id: run.id,
    status: run.status,
    definition: run.definition,
    file: run.file,
    event: run.eventName,
    eventId: run.eventId,
    group: run.group,
    queuedAt: run.queuedAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    endedAt: run.endedAt?.toISOString() ?? null,
    durationMs: runDurationMs(run),
    exitCode: run.exitCode,
    reason: run.reason,
    steps: run.steps,
    logBytes: run.logBytes,
    logDroppedBytes: run.logDroppedBytes,
  };
}

/** Rows as aligned columns (two spaces apart), the last column unpadded. */
export function alignedRows(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat(widths[column]! - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
