// `trig replay <event-id>`: a recorded event fired again through the fire core, against the
// definitions as they are now. The new event is recorded with source `replay` and
// `replayOf`, and carries no delivery key: replaying is the one way to run a delivery again.

import { lstatSync } from 'node:fs';
import { DECIDED_AT, decidedAt } from '../fire/history-check.js';
import { checkWorkdir, fire, fireExitCode, openStore, presentFire, type FireOutcome } from '../fire/index.js';
import { GLOB_CHARACTER } from '../load/paths.js';
import { displayPath } from '../shared/display-path.js';
import { UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { isRecord } from '../shared/records.js';
import { styleFor } from '../shared/style.js';
import type { StoredEvent } from '../store/store.js';
import { parseConcurrency, parseInputs, parseTimeout, processFireDeps, type FireFlags } from './fire.js';

/** The flags of `trig replay`: those of `trig fire` that do not describe the event (it is recorded). */
export type ReplayFlags = Pick<
  FireFlags,
  | 'defs'
  | 'input'
  | 'dryRun'
  | 'explain'
  | 'json'
  | 'quiet'
  | 'workdir'
  | 'containerRuntime'
  | 'concurrency'
  | 'timeout'
  | 'cache'
  | 'strict'
>;

/** The recorded event an id (or a unique start of one) names; anything else is a one-line usage error. */
export async function findRecordedEvent(idPrefix: string, env: NodeJS.ProcessEnv): Promise<StoredEvent> {
  const store = await openStore(env);
  try {
    const found = await store.findEvent(idPrefix);
    if ('missing' in found) throw new UsageError(oneLine(found.missing));
    return found.found;
  } finally {
    store.close();
  }
}

/**
 * The definitions a replay uses without --defs: the places the event was fired against,
 * those that still exist (a glob is kept as it is: loading it says when it matches nothing).
 */
export function recordedDefinitions(event: StoredEvent, cwd: string, warn: (line: string) => void): string[] {
  const kept: string[] = [];
  for (const place of event.places) {
    let exists = GLOB_CHARACTER.test(place);
    try {
      lstatSync(place);
      exists = true;
    } catch {
      // gone, unless it is a glob
    }
    if (exists) kept.push(displayPath(place, cwd));
    else warn(`warning: ${oneLine(place)}, where event ${event.id} found its definitions, no longer exists`);
  }
  if (!kept.length) {
    throw new UsageError(
      `none of the definitions event ${event.id} was fired against exist any more (${event.places.map(oneLine).join(', ')}); name them with --defs`,
    );
  }
  return kept;
}

/** The first line of a replay in text mode: which event, and what becomes of the new one. */
function replayLine(original: StoredEvent, outcome: FireOutcome): string {
  const what = `replaying event ${original.id} (${oneLine(original.name)} from ${original.source} at ${original.at.toISOString()})`;
  if (outcome.eventId) return `${what} as event ${outcome.eventId}\n`;
  if (outcome.dryRun) return `${what}, dry run: nothing is run or recorded\n`;
  return `${what}: nothing matched, nothing is recorded\n`;
}

export async function runReplay(idPrefix: string, flags: ReplayFlags, io: Output): Promise<number> {
  // Every usage error before the store is opened.
  const inputs = parseInputs(flags.input ?? []);
  const concurrency = parseConcurrency(flags.concurrency);
  const timeoutMs = parseTimeout(flags.timeout);
  const cwd = process.cwd();
  const workdir = flags.workdir ?? cwd;
  if (!flags.dryRun) checkWorkdir(workdir);
  const original = await findRecordedEvent(idPrefix, process.env);
  if (!isRecord(original.payload)) throw new UsageError(`event ${original.id}: the recorded payload is not a JSON object`);
  const definitions = flags.defs ?? recordedDefinitions(original, cwd, (line) => io.stderr.write(`trig: ${line}\n`));

  const runOutput = flags.json ? io.stderr : io.stdout;
  const style = await styleFor(runOutput);
  const quiet = Boolean(flags.quiet);
  const presenter = presentFire(io, { json: Boolean(flags.json), explain: Boolean(flags.explain), quiet, style });
  const { dryRun = false, strict = false, containerRuntime } = flags;
  // Decided at the event's own time (a schedule event starts the definitions due then; a
  // replay's is the time of the event it replayed), recorded as received now.
  const at = decidedAt(original);
  let saidReplay = false;
  const outcome = await fire(
    {
      event: original.name,
      payload: original.payload,
      definitions,
      inputs,
      at,
      receivedAt: new Date(),
      options: { dryRun, strict, quiet, concurrency, timeoutMs, workdir, containerRuntime },
      source: 'replay',
      replayOf: original.id,
      ...(original.headers ? { headers: original.headers } : {}),
      // The time it was decided at, for validate --against-history (its received time is now).
      details: { ...original.details, [DECIDED_AT]: at.toISOString() },
    },
    {
      ...processFireDeps(io, flags),
      runOutput,
      runStyle: style,
      onPlanned: (planned) => {
        // Told again for the events the runs' ends fire (chains): the replay line is the first event's.
        if (!flags.json && !quiet && !saidReplay) io.stdout.write(replayLine(original, planned));
        saidReplay = true;
        presenter.planned(planned);
      },
    },
  );
  presenter.finished(outcome);
  return fireExitCode(outcome);
}
