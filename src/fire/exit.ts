import { EXIT, SIGNAL_EXIT } from '../shared/errors.js';
import type { FireOutcome } from './fire.js';

/**
 * The exit status of a fire, as `trig fire` exits and the git hooks report it: the
 * shell's code for a signal that stopped the runs; 1 when a matched definition failed or
 * did not start, or a definition file could not be read; else 0. A run its concurrency group
 * cancelled (superseded, or cancel-in-progress) is not a failure: a newer run took its place.
 */
export function fireExitCode(outcome: Pick<FireOutcome, 'signal' | 'runsFailed' | 'unreadableFiles'>): number {
  if (outcome.signal) return SIGNAL_EXIT[outcome.signal] ?? 128;
  return outcome.runsFailed || outcome.unreadableFiles ? EXIT.problems : EXIT.ok;
}
