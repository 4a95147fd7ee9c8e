// How `trig fire` and the git hooks tell a person about a fire: warnings on standard
// error, then the decision (and with dryRun the plans) before any run starts, then the
// summary line, or the one JSON document at the end. The formatting itself is
// report/fire-format.ts; this is only when and where it is written.

import { formatFireJson, formatFireText, formatRunSummary } from '../report/fire-format.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import type { Style } from '../shared/style.js';
import type { FireOutcome } from './fire.js';

export interface PresentOptions {
  /** One JSON document on standard output (schemas/fire-output.schema.json), nothing else there. */
  json: boolean;
  /** Also say why each other definition did not match. */
  explain: boolean;
  /** Only failures. */
  quiet: boolean;
  style: Style;
}

export interface Presenter {
  /** For FireDeps.onPlanned. */
  planned(outcome: FireOutcome): void;
  /** Once fire() has returned. */
  finished(outcome: FireOutcome): void;
}

export function presentFire(io: Output, options: PresentOptions): Presenter {
  const { json, explain, quiet, style } = options;
  return {
    planned(outcome) {
      const { mask } = outcome;
      if (outcome.duplicate) return;
      if (!quiet) for (const warning of outcome.warnings) io.stderr.write(`trig: warning: ${mask(warning)}\n`);
      // Masked in the report's values, never in the text: see maskDeep.
      if (!json) io.stdout.write(formatFireText(outcome, { explain, plans: outcome.dryRun, quiet }, style, mask));
    },
    finished(outcome) {
      if (outcome.duplicate && !json) {
        // Not a failure: a second cron daemon's tick, or the pre-push after a post-commit, stays silent.
        if (!quiet) {
          io.stdout.write(`duplicate delivery ${oneLine(outcome.duplicate.deliveryKey)}: already handled as event ${outcome.eventId}\n`);
        }
        return;
      }
      if (json) {
        io.stdout.write(formatFireJson(outcome, outcome.mask));
        return;
      }
      const matched = outcome.definitions.some((d) => d.decision.matched);
      if (outcome.summary && matched && (!quiet || outcome.runsFailed)) io.stdout.write(formatRunSummary(outcome.summary, style));
    },
  };
}
