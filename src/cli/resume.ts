// `trig resume [run-id]`: carries on the runs that wait for a retry and whose trig is gone
// (it handed them over, or died), once their next attempt is due. The cron entry's tick
// does the same each minute; this is the command for machines without it, and for now.

import { openStore, presentFire } from '../fire/index.js';
import type { ResumeOutcome } from '../fire/resume.js';
import { EXIT, SIGNAL_EXIT, UsageError } from '../shared/errors.js';
import { oneLine } from '../shared/printable.js';
import type { Output } from '../shared/io.js';
import { styleFor } from '../shared/style.js';
import { stateDir, storeExists } from '../store/place.js';
import { processFireDeps } from './fire.js';
import { formatTime } from './stored.js';

export interface ResumeFlags {
  quiet?: boolean;
  /** false with --no-cache. */
  cache?: boolean;
}

/** The exit code of resuming: a signal's, 1 when a resumed run (or one its end started) did not succeed, else 0. */
export function resumeExitCode(outcome: Pick<ResumeOutcome, 'signal' | 'failed'>): number {
  if (outcome.signal) return SIGNAL_EXIT[outcome.signal] ?? 128;
  return outcome.failed ? EXIT.problems : EXIT.ok;
}

export async function runResume(runId: string | undefined, flags: ResumeFlags, io: Output): Promise<number> {
  const quiet = Boolean(flags.quiet);
  if (!storeExists(stateDir(process.env))) {
    if (runId !== undefined) {
      throw new UsageError(`no run ${oneLine(runId)} (no runs recorded yet)`);
    }
    if (!quiet) io.stdout.write('nothing to resume (no runs recorded yet)\n');
    return EXIT.ok;
  }
  const { resumeRuns } = await import('../fire/resume.js');
  const style = await styleFor(io.stdout);
  const presenter = presentFire(io, { json: false, explain: false, quiet, style });
  const outcome = await resumeRuns(
    { ...(runId !== undefined ? { runId } : {}), quiet },
    {
      ...processFireDeps(io, flags),
      openStore: () => openStore(process.env),
      runOutput: io.stdout,
      runStyle: style,
      onPlanned: presenter.planned,
      onResume: ({ run, resume }) => {
        if (!quiet)
          io.stdout.write(`resuming run ${run.id} (${oneLine(run.definition)}): step ${oneLine(resume.step)}, attempt ${resume.attempt}\n`);
      },
    },
  );
  for (const resumed of outcome.resumed) for (const chained of resumed.chained) presenter.finished(chained);
  if (!quiet) {
    if (!outcome.resumed.length) io.stdout.write('nothing to resume\n');
    for (const { run, why } of outcome.left) {
      io.stdout.write(
        why === 'not-due'
          ? `run ${run.id} waits for its next attempt, due at ${formatTime(run.resumeAt)}\n`
          : `run ${run.id}: its trig process (pid ${run.owner?.pid}) waits for the next attempt itself\n`,
      );
    }
  }
  return resumeExitCode(outcome);
}
