// How stored records are shown to people: by the commands that read the store (trig runs,
// logs, history, approvals) and by trig serve's page, which must say the same things the
// same way. Text only; each caller escapes for its medium (a terminal, HTML).

import { oneLine } from '../shared/printable.js';
import { LOG_LIMIT_BYTES, type StoredLogLine, type StoredRun } from './store.js';

/** A time as trig prints it: UTC, to the second. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** How long a run took, or has been going. */
export function runDurationMs(run: StoredRun, now = Date.now()): number | null {
  if (!run.startedAt) return null;
  return (run.endedAt ?? new Date(now)).getTime() - run.startedAt.getTime();
}

/** The end of a run in words: `exit 3: step breaks: exited with code 3`, `the trig process that ran it (pid 7) died`. */
export function runResult(run: StoredRun): string {
  const parts: string[] = [];
  if (run.exitCode !== null) parts.push(`exit ${run.exitCode}`);
  if (run.reason) parts.push(oneLine(run.reason));
  return parts.join(': ');
}

/** One stored log line as `trig fire` printed it: `[definition/step] text`, control characters shown as escapes. */
export function logLineText(run: StoredRun, line: StoredLogLine): string {
  const prefix = line.step === null ? `[${run.definition}]` : `[${run.definition}/${line.step}]`;
  return `${oneLine(prefix)} ${oneLine(line.text)}\n`;
}

/** What the log cap dropped from a run's start, in one line. */
export function droppedText(run: StoredRun): string {
  return `… ${run.logDroppedBytes} bytes of earlier output not kept (the store keeps each run's last ${LOG_LIMIT_BYTES / 1024 / 1024} MiB)\n`;
}
