// The cron entry's tick (`trig fire --event schedule --cron`, see entries.ts): the schedule
// fire of this minute, with source `cron` and each slot keyed by place and minute (two cron
// daemons run a slot once), and, when ticks were missed, what `catch-up` asks for.
//
// Every tick reads and moves the place's tick stamp (tick-stamp.ts); the store is opened
// only when something matched (the fire core) or a gap is found, so the every-minute tick
// that matches nothing stays as cheap as before. When the stamp says the previous tick was
// more than a minute ago, the minutes between are missed: for each definition whose
// schedule says `catch-up: <duration>`, the latest missed minute it was due at within that
// duration is fired once, late, through the fire core with the same slot key (a slot that
// did run is a duplicate), its payload saying `caughtUp` and `scheduledAt`. Other missed
// times are skipped, as cron skips them, and the gap is recorded in the store for
// `trig history`.
//
// The tick also carries on the runs that wait for a retry whose trig is gone (fire/resume.ts),
// when the hint file beside the store says one may be waiting: one lstat, so a tick with
// nothing waiting opens neither the store nor anything else.

import path from 'node:path';
import type { FireDeps, FireOptions, FireOutcome, FireRequest } from '../../fire/index.js';
import { definitionPlaces, fire, thisProcess } from '../../fire/index.js';
import { lastDueBetween } from '../../lang/cron.js';
import { scheduleItems, scheduleMinute } from '../../match/filters.js';
import { parseDuration } from '../../shared/duration.js';
import type { ResumeOutcome } from '../../fire/resume.js';
import { preparePlace, resumeHinted, stateDir } from '../../store/place.js';
import type { CheckedDefinition, CheckResult } from '../../validate/check.js';
import { readTickStamp, writeTickStamp } from './tick-stamp.js';

const MINUTE = 60_000;

export interface TickRequest {
  /** The minute cron started the entry at (`--at`, read by the entry's shell). */
  at: Date;
  /** Definition paths (none: `.harness/`). */
  definitions: readonly string[];
  options?: Partial<FireOptions>;
}

export interface TickDeps extends FireDeps {
  /** Told what the tick could not do but did without (the stamp could not be written). */
  warn(message: string): void;
  /** Told of each fire's outcome as it ends (the tick's own, and each catch-up). */
  onFinished?(outcome: FireOutcome): void;
  /** Told what resuming did, when runs waiting for a retry may be due. */
  onResumed?(outcome: ResumeOutcome): void;
}

/** Minutes no tick saw, both ends included. */
export interface Gap {
  from: Date;
  to: Date;
}

/** A missed minute to fire late, and the definitions whose latest missed time it is. */
export interface CatchUp {
  slot: Date;
  definitions: CheckedDefinition[];
}

function minuteOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / MINUTE) * MINUTE);
}

/** The minutes between the last tick and this one, if any was missed. */
export function missedMinutes(last: Date | undefined, now: Date): Gap | undefined {
  if (!last || now.getTime() - last.getTime() <= MINUTE) return undefined;
  return { from: new Date(last.getTime() + MINUTE), to: new Date(now.getTime() - MINUTE) };
}

/**
 * For each definition with a `catch-up`, the latest minute of the gap at which one of its
 * catching-up schedules was due, no further back from `now` than that schedule's
 * `catch-up`; grouped by minute, oldest first. Definitions with errors never fire and are
 * left out; the fire core decides the rest (an `if:`, --strict) as for any tick.
 */
export function catchUps(definitions: readonly CheckedDefinition[], gap: Gap, now: Date): CatchUp[] {
  const bySlot = new Map<number, CheckedDefinition[]>();
  for (const definition of definitions) {
    if (definition.diagnostics.some((d) => d.severity === 'error')) continue;
    let latest: Date | undefined;
    for (const entry of definition.entries) {
      if (entry.event !== 'schedule') continue;
      for (const item of scheduleItems(entry.raw)) {
        const window = item.catchUp === undefined ? undefined : parseDuration(item.catchUp);
        if (window === undefined) continue;
        const from = new Date(Math.max(gap.from.getTime(), now.getTime() - window));
        let slot: Date | undefined;
        try {
          slot = lastDueBetween(item.cron, item.timezone, from, gap.to);
        } catch {
          continue; // a bad expression or zone: the definition has an error, reported by validate
        }
        if (slot && (!latest || slot > latest)) latest = slot;
      }
    }
    if (latest) bySlot.set(latest.getTime(), [...(bySlot.get(latest.getTime()) ?? []), definition]);
  }
  return [...bySlot.entries()].sort(([a], [b]) => a - b).map(([slot, defs]) => ({ slot: new Date(slot), definitions: defs }));
}

/** The tick: this minute's schedule fire and the catch-ups, run side by side; one outcome each. */
export async function cronTick(request: TickRequest, deps: TickDeps): Promise<FireOutcome[]> {
  const now = minuteOf(request.at);
  const places = definitionPlaces(request.definitions, deps.cwd());
  const dir = stateDir(deps.env);
  preparePlace(dir);
  const last = readTickStamp(dir, places);
  // Moved forward only: a late tick of an earlier minute (a loaded machine, a second cron
  // daemon) or a clock set back must not make the next tick see a gap that was not one.
  if ((!last || now > last) && !writeTickStamp(dir, places, now)) {
    deps.warn(`cannot write the tick stamp in ${dir}: the next tick cannot tell whether ticks were missed`);
  }
  const checked = await deps.loadDefinitions(request.definitions);
  const gap = missedMinutes(last, now);
  const late = gap ? catchUps(checked.definitions, gap, now) : [];
  if (gap) await recordGap(deps, places, now, gap, late);

  const base: Omit<FireRequest, 'payload' | 'definitions' | 'at'> = {
    event: 'schedule',
    source: 'cron',
    keyBySlot: true,
    places,
    ...(request.options ? { options: request.options } : {}),
  };
  const fires: FireRequest[] = [
    { ...base, payload: {}, definitions: checked, at: request.at },
    ...late.map(({ slot, definitions }): FireRequest => {
      const facts = { caughtUp: true, scheduledAt: scheduleMinute(slot) };
      // Only the definitions this slot is the latest missed time of; the files that could
      // not be read are the tick's own fire's to report.
      const subset: CheckResult = { ...checked, definitions, readErrors: [], syntaxErrors: [] };
      return { ...base, payload: facts, details: facts, definitions: subset, at: slot };
    }),
  ];
  // Side by side with the fires; its failure is thrown once they are done.
  const resuming = resumeDue(deps, request.options?.quiet).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  const outcomes = await Promise.all(
    fires.map(async (one) => {
      const outcome = await fire(one, deps);
      deps.onFinished?.(outcome);
      return outcome;
    }),
  );
  const failed = await resuming;
  if (failed) throw failed.error;
  return outcomes;
}

/** Resumes the due runs waiting for a retry, when the hint file says one may wait. */
async function resumeDue(deps: TickDeps, quiet: boolean | undefined): Promise<void> {
  const { openStore } = deps;
  if (!openStore || !resumeHinted(stateDir(deps.env))) return;
  const { resumeRuns } = await import('../../fire/resume.js');
  deps.onResumed?.(await resumeRuns({ quiet: quiet ?? false }, { ...deps, openStore }));
}

/**
 * Records the gap for `trig history`: an event `schedule` from `cron` that ran nothing, its
 * details saying which minutes were missed and which definitions are caught up. Keyed by
 * place and gap, so that two cron daemons finding the same gap record it once.
 */
async function recordGap(deps: FireDeps, places: readonly string[], now: Date, gap: Gap, late: readonly CatchUp[]): Promise<void> {
  if (!deps.openStore) return;
  const store = await deps.openStore();
  try {
    const missed = { from: scheduleMinute(gap.from), to: scheduleMinute(gap.to) };
    // With an empty dispatch: the event is complete (decided, nothing to run) when recorded.
    await store.admitEvent(
      {
        name: 'schedule',
        source: 'cron',
        at: now,
        deliveryKey: `missed ${missed.from}..${missed.to} ${places.join(' ')}`,
        places,
        payload: {},
        details: {
          missed,
          caughtUp: late.flatMap(({ slot, definitions }) =>
            definitions.map((d) => ({ file: path.resolve(deps.cwd(), d.file), definition: d.name, scheduledAt: scheduleMinute(slot) })),
          ),
        },
      },
      { decisions: [], runs: [], owner: thisProcess() },
    );
  } finally {
    store.close();
  }
}
