// What `trig cron` writes: one crontab line per repository that runs
// `trig fire --event schedule` every minute, so that trig itself (croner, in each
// schedule's own time zone) decides which schedules are due.
//
// Why one per-minute line rather than one cron line per schedule: cron reads its lines in
// the system's time zone, while a trig schedule is read in its `timezone` (UTC when
// absent), so a per-schedule line would be exact only where the two agree and only for
// the syntax both understand, and it would fire across DST changes differently from
// croner. With the per-minute line, `trig fire` is the single judge of due-ness, exactly
// as in `trig fire --event schedule --at …`; schedules added to or removed from the
// definitions later take effect without reinstalling. The cost is one short node start per
// minute for each repository with schedules.

import path from 'node:path';
import type { Definition } from '../../load/definition.js';
import { scheduleItems } from '../../match/filters.js';
import { cronProblem, timezoneProblem } from '../../lang/cron.js';
import { cronCommand, shQuote } from '../../shared/shell.js';
import { renderBlock } from './block.js';

export interface ScheduleTrigger {
  file: string;
  definition: string;
  cron: string;
  timezone?: string;
  /** What the run sees as `<+trigger.scheduleName>`: the item's name, else the definition's. */
  scheduleName: string;
  /** `catch-up` as written. */
  catchUp?: string;
  /** Why trig will never fire this schedule (a bad expression or time zone). */
  problem?: string;
}

/** Every schedule of every definition, in file order. */
export function scheduleTriggers(documents: readonly Pick<Definition, 'file' | 'name' | 'entries'>[]): ScheduleTrigger[] {
  const out: ScheduleTrigger[] = [];
  for (const document of documents) {
    for (const entry of document.entries) {
      if (entry.event !== 'schedule') continue;
      for (const item of scheduleItems(entry.raw)) {
        const problem = cronProblem(item.cron) ?? (item.timezone === undefined ? undefined : timezoneProblem(item.timezone));
        out.push({
          file: document.file,
          definition: document.name,
          cron: item.cron,
          ...(item.timezone !== undefined ? { timezone: item.timezone } : {}),
          scheduleName: item.name ?? document.name,
          ...(item.catchUp !== undefined ? { catchUp: item.catchUp } : {}),
          ...(problem ? { problem } : {}),
        });
      }
    }
  }
  return out;
}

export interface CronEntryOptions {
  /** The repository directory the entry changes to (absolute). */
  dir: string;
  /** The node binary (absolute): cron's PATH is /usr/bin:/bin at best. */
  node: string;
  /** trig's bin/trig (absolute). */
  trig: string;
  /** `--defs` arguments as given, read relative to `dir`. */
  defs?: readonly string[];
  /** The installing user's PATH, so that steps find `sh`, `docker` and the rest under cron. */
  path?: string;
  /** The installing user's SHELL, passed on to the steps. */
  shell?: string;
}

/** A PATH or SHELL that cannot be written into a crontab line. */
export class CronEnvironmentError extends Error {}

function checkOneLine(name: string, value: string): void {
  // A crontab line ends at a line break; what follows would be a line of its own.
  if (/[\n\r]/.test(value))
    throw new CronEnvironmentError(
      `${name} contains a line break, which a crontab line cannot hold; set ${name} without it and install again`,
    );
}

/**
 * The PATH the entry sets: the installing user's, without relative or empty entries
 * (under cron they would name folders of the repository, not what the user meant).
 */
export function cronPath(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  checkOneLine('PATH', value);
  const dirs = value.split(':').filter((dir) => path.isAbsolute(dir));
  return dirs.length ? dirs.join(':') : undefined;
}

/** The variables the entry exports before anything else runs (cron's own are PATH=/usr/bin:/bin, SHELL=/bin/sh). */
function environmentPrefix(options: CronEntryOptions): string[] {
  const assignments: string[] = [];
  const searchPath = cronPath(options.path);
  if (searchPath) assignments.push(`PATH=${shQuote(searchPath)}`);
  if (options.shell !== undefined) {
    checkOneLine('SHELL', options.shell);
    if (path.isAbsolute(options.shell)) assignments.push(`SHELL=${shQuote(options.shell)}`);
  }
  return assignments.length ? [`export ${assignments.join(' ')} &&`] : [];
}

/** date(1)'s format of the current minute, as `--at` reads it. */
const SHELL_MINUTE_FORMAT = '%Y-%m-%dT%H:%M:00Z';

/** The shell command of the entry, as sh is to run it (before crontab escaping). */
export function fireCommand(options: CronEntryOptions): string {
  for (const [what, value] of [
    ['directory', options.dir],
    ['node', options.node],
    ['trig', options.trig],
  ] as const) {
    if (!path.isAbsolute(value)) throw new Error(`the ${what} path must be absolute, not ${JSON.stringify(value)}`);
  }
  const defs = options.defs?.length ? ['--defs', ...options.defs.map(shQuote)] : [];
  return [
    // First, so that `date` below and every step find programs as the installing user did.
    ...environmentPrefix(options),
    `cd ${shQuote(options.dir)} &&`,
    shQuote(options.node),
    shQuote(options.trig),
    // The minute is read by the shell as cron starts the entry, not by trig once node is
    // up: on a loaded machine a slow start must not move the fire into the next minute.
    // --cron: the tick's source is cron, each slot runs once, missed ticks are caught up.
    `fire --event schedule --at "$(date -u +${SHELL_MINUTE_FORMAT})" --cron --quiet`,
    ...defs,
  ].join(' ');
}

/** The crontab line: every minute, the fire command (with `%` escaped for cron). */
export function cronLine(options: CronEntryOptions): string {
  return `* * * * * ${cronCommand(fireCommand(options))}`;
}

/** The marked block `trig cron install` keeps in the crontab for `options.dir`. */
export function cronBlock(options: CronEntryOptions): string {
  return renderBlock(options.dir, [
    '# Written by `trig cron install`; `trig cron uninstall` removes this block.',
    '# Every minute trig fires the schedule triggers that are due, each read in its own time zone.',
    cronLine(options),
  ]);
}
