// `trig resume [run-id]`: carries on the runs that wait for a retry and whose trig is gone
// (it handed them over, or died), once their next attempt is due. The cron entry's tick
// does the same each minute; this is the command for machines without it, and for now.

import { openStore, presentFire } from '../fire/index.js';
import { expiredText, type ExpiredGate } from '../fire/gates.js';
import type { ResumeDeps, ResumeOutcome } from '../fire/resume.js';
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

/**
 * What carrying runs on needs from this process (trig resume, approvals, approve, reject):
 * the store, the runs' output on stdout, and `finish`, which reports the runs their ends
 * fired and the gates that timed out.
 */
export async function resumingDeps(
  io: Output,
  flags: ResumeFlags,
): Promise<{ deps: ResumeDeps; finish(outcome: Pick<ResumeOutcome, 'resumed'> & { expired: readonly ExpiredGate[] }): void }> {
  const quiet = Boolean(flags.quiet);
  const style = await styleFor(io.stdout);
  const presenter = presentFire(io, { json: false, explain: false, quiet, style });
  const deps: ResumeDeps = {
    ...processFireDeps(io, flags),
    openStore: () => openStore(process.env),
    runOutput: io.stdout,
    runStyle: style,
    onPlanned: presenter.planned,
    onResume: ({ run, resume }) => {
      if (quiet) return;
      io.stdout.write(
        resume.kind === 'approval'
          ? `carrying on run ${run.id} (${oneLine(run.definition)}) after gate ${resume.gate}: ${oneLine(resume.approved ?? 'approved')}\n`
          : `resuming run ${run.id} (${oneLine(run.definition)}): step ${oneLine(resume.step)}, attempt ${resume.attempt}\n`,
      );
    },
  };
  return {
    deps,
    finish(outcome) {
      for (const resumed of outcome.resumed) for (const chained of resumed.chained) presenter.finished(chained);
      for (const expired of outcome.expired) if (expired.action === 'reject' || !quiet) io.stdout.write(`${expiredText(expired)}\n`);
    },
  };
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
  const { deps, finish } = await resumingDeps(io, flags);
  const outcome = await resumeRuns({ ...(runId !== undefined ? { runId } : {}), quiet }, deps);
  finish(outcome);
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
