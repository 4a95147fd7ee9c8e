// `trig approvals`, `trig approve <gate>`, `trig reject <gate>`: the gates runs wait at, and
// the decisions people record on them. Each first enforces the timeouts of the gates past
// their deadline; a run whose gate is approved is carried on in this process.

import os from 'node:os';
import type { DecisionOutcome } from '../fire/approvals.js';
import { approvalsSoFar, approvalsText, timeLeft } from '../fire/gates.js';
import { EXIT, UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { stateDir, storeExists } from '../store/place.js';
import type { StoredGate } from '../store/store.js';
import { resumeExitCode, resumingDeps, type ResumeFlags } from './resume.js';
import { alignedRows, formatTime } from './stored.js';

export interface ApprovalsFlags extends ResumeFlags {
  json?: boolean;
}

export interface DecideFlags extends ResumeFlags {
  as?: string;
  comment?: string;
}

/** Whether the gate's channel told anyone: only `cli` is built (one asks trig approvals). */
function notification(gate: StoredGate): string {
  return gate.settings.uses === 'cli' ? 'cli: trig approvals lists it' : `not notified: the ${gate.settings.uses} channel is not built yet`;
}

/** A waiting gate as `trig approvals --json` gives it (schemas/approvals-output.schema.json). */
function gateJson(gate: StoredGate, now: Date): Record<string, unknown> {
  return {
    id: gate.id,
    runId: gate.runId,
    definition: gate.definition,
    file: gate.file,
    event: gate.eventName,
    step: gate.step,
    message: gate.message,
    uses: gate.settings.uses,
    notified: gate.settings.uses === 'cli',
    notification: notification(gate),
    minApprovers: gate.settings.minApprovers,
    approvers: gate.settings.approvers,
    approvals: gate.decisions
      .filter((d) => d.verdict === 'approve')
      .map(({ by, at, from, comment }) => ({ by, at, from, ...(comment !== undefined ? { comment } : {}) })),
    timeout: gate.settings.timeout,
    timeoutAction: gate.settings.timeoutAction,
    createdAt: gate.createdAt.toISOString(),
    deadline: gate.deadline.toISOString(),
    timeLeftMs: Math.max(0, gate.deadline.getTime() - now.getTime()),
  };
}

/** `trig approvals`: the gates that wait for a decision. */
export async function runApprovals(flags: ApprovalsFlags, io: Output): Promise<number> {
  if (!storeExists(stateDir(process.env))) {
    io.stdout.write(flags.json ? `${JSON.stringify({ gates: [], expired: [] }, null, 2)}\n` : 'no gates wait for a decision\n');
    return EXIT.ok;
  }
  const { listApprovals } = await import('../fire/approvals.js');
  // With --json, what carried-on runs print goes to stderr: stdout is the document.
  const { deps, finish } = await resumingDeps(flags.json ? { ...io, stdout: io.stderr } : io, flags);
  const outcome = await listApprovals({ quiet: Boolean(flags.quiet) }, deps);
  finish(outcome);
  const now = deps.now();
  if (flags.json) {
    const expired = outcome.expired.map(({ gate, action }) => ({ id: gate.id, runId: gate.runId, action }));
    io.stdout.write(`${JSON.stringify({ gates: outcome.gates.map((gate) => gateJson(gate, now)), expired }, null, 2)}\n`);
  } else if (!outcome.gates.length) io.stdout.write('no gates wait for a decision\n');
  else {
    const rows = outcome.gates.map((gate) => {
      return [
        gate.id,
        gate.runId,
        oneLine(gate.definition),
        oneLine(gate.step),
        approvalsText(gate),
        `${timeLeft(gate, now)}, then ${gate.settings.timeoutAction}`,
        notification(gate),
        oneLine(gate.message ?? ''),
      ];
    });
    io.stdout.write(alignedRows([['GATE', 'RUN', 'DEFINITION', 'AT', 'APPROVALS', 'TIME LEFT', 'NOTIFIED', 'MESSAGE'], ...rows]));
  }
  return resumeExitCode(outcome);
}

/** What a decision did, in one line. */
function decided(outcome: DecisionOutcome['outcome'], verdict: 'approve' | 'reject', by: string): string {
  if ('refused' in outcome) return outcome.refused;
  const word = verdict === 'approve' ? 'approved' : 'rejected';
  const gate = 'waiting' in outcome ? outcome.waiting : 'rejected' in outcome ? outcome.rejected : outcome.approved;
  const head = `${word} gate ${gate.id} as ${oneLine(by)}`;
  if ('rejected' in outcome) return `${head}: run ${gate.runId} (${oneLine(gate.definition)}) ends rejected`;
  if ('waiting' in outcome) {
    const approvals = approvalsSoFar(gate).length;
    return `${head}: ${approvals} of ${gate.settings.minApprovers} approvals; the run still waits (${formatTime(gate.deadline)} at the latest)`;
  }
  return `${head}: the run goes on`;
}

/** `trig approve <gate>` and `trig reject <gate>`. */
export async function runDecide(verdict: 'approve' | 'reject', gate: string, flags: DecideFlags, io: Output): Promise<number> {
  if (!storeExists(stateDir(process.env))) throw new UsageError(`no gate ${oneLine(gate)} (no runs recorded yet)`);
  const by = flags.as ?? os.userInfo().username;
  const { decideApproval } = await import('../fire/approvals.js');
  const { deps, finish } = await resumingDeps(io, flags);
  const outcome = await decideApproval(
    {
      gate,
      verdict,
      by,
      ...(flags.comment !== undefined ? { comment: flags.comment } : {}),
      quiet: Boolean(flags.quiet),
      // Said before the run it carries on prints its lines.
      onDecided: (decision) => {
        if (!('refused' in decision)) io.stdout.write(`${decided(decision, verdict, by)}\n`);
      },
    },
    deps,
  );
  finish(outcome);
  if ('refused' in outcome.outcome) throw new UsageError(outcome.outcome.refused);
  return resumeExitCode(outcome);
}
