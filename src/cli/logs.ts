import { settleLost } from '../fire/record.js';
import { UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { suggest } from '../shared/suggest.js';
import { droppedText, logLineText } from '../store/show.js';
import { ACTIVE_STATUSES, type Store, type StoredRun } from '../store/store.js';
import { runJson, withStoredData } from './stored.js';

/** The flags of `trig logs`, as commander gives them. */
export interface LogsFlags {
  step?: string;
  follow?: boolean;
  json?: boolean;
}

/** How often --follow looks for new lines. */
const FOLLOW_POLL_MS = 200;
/** Every this many polls, --follow also looks whether the run's trig process died (the run is then lost). */
const FOLLOW_REAP_EVERY = 10;

/** The run a (prefix of a) run id names; a usage error when it names none or several. */
export async function runNamed(store: Store, idPrefix: string): Promise<StoredRun> {
  const found = await store.findRun(idPrefix);
  if ('missing' in found) throw new UsageError(oneLine(found.missing));
  return found.found;
}

async function checkStep(store: Store, run: StoredRun, step: string | undefined): Promise<void> {
  // While a run is going its steps are not all known yet: any name is taken.
  if (step === undefined || ACTIVE_STATUSES.includes(run.status)) return;
  const logged = (await store.readLog(run.id)).flatMap((line) => (line.step === null ? [] : [line.step]));
  const names = [...new Set([...run.steps.flatMap((s) => (s.name === null ? [] : [s.name])), ...logged])];
  if (names.some((name) => name === step || name.startsWith(`${step}/`))) return;
  const guess = suggest(step, names);
  throw new UsageError(
    `run ${run.id} has no step "${oneLine(step)}"${guess ? `; did you mean "${oneLine(guess)}"?` : ''}${names.length ? ` (steps: ${names.map(oneLine).join(', ')})` : ''}`,
  );
}

/** A run whose trig process died has no end line of its own: it is said from the record. */
function lostText(run: StoredRun): string {
  return run.status === 'lost' ? `${oneLine(`[${run.definition}]`)} lost${run.reason ? `: ${oneLine(run.reason)}` : ''}\n` : '';
}

async function follow(store: Store, run: StoredRun, step: string | undefined, io: Output): Promise<void> {
  let afterSeq = 0;
  const show = async (current: StoredRun) => {
    const lines = await store.readLog(current.id, { ...(step !== undefined ? { step } : {}), afterSeq });
    // What the cap dropped before this reader came (a follower sees the rest as it comes).
    if (afterSeq === 0 && current.logDroppedBytes) io.stdout.write(droppedText(current));
    for (const line of lines) io.stdout.write(logLineText(current, line));
    if (lines.length) afterSeq = lines[lines.length - 1]!.seq;
  };
  for (let poll = 1; ; poll++) {
    // Read the status first: lines written before the run ended are all there when it reads as over.
    const current = await runNamed(store, run.id);
    await show(current);
    if (!ACTIVE_STATUSES.includes(current.status)) {
      io.stdout.write(lostText(current));
      return;
    }
    if (poll % FOLLOW_REAP_EVERY === 0) await settleLost(store);
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

/** `trig logs`: the stored, masked output of one run (or JSON: schemas/logs-output.schema.json); --follow tails it until it is over. */
export async function runLogs(idPrefix: string, flags: LogsFlags, io: Output): Promise<number> {
  if (flags.json && flags.follow) throw new UsageError('--json and --follow do not go together: --json prints one document');
  return withStoredData(io, { missing: idPrefix }, async (store) => {
    const run = await runNamed(store, idPrefix);
    await checkStep(store, run, flags.step);
    if (flags.follow) {
      await follow(store, run, flags.step, io);
      return 0;
    }
    const lines = await store.readLog(run.id, flags.step !== undefined ? { step: flags.step } : {});
    if (flags.json) {
      const json = {
        run: runJson(run),
        droppedBytes: run.logDroppedBytes,
        lines: lines.map((l) => ({ seq: l.seq, step: l.step, at: l.at.toISOString(), text: l.text })),
      };
      io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return 0;
    }
    if (run.logDroppedBytes) io.stdout.write(droppedText(run));
    for (const line of lines) io.stdout.write(logLineText(run, line));
    io.stdout.write(lostText(run));
    return 0;
  });
}
