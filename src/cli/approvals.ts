// `trig approvals`, `trig approve <gate>`, `trig reject <gate>`, `trig intervene <gate>
// <decision>`: the gates runs wait at (approvals, and failed steps that wait for manual
// intervention), and the decisions people record on them. Each first enforces the timeouts
// of the gates past their deadline; a run whose gate lets it go on is carried on in this process.

import os from 'node:os';
import type { DecisionOutcome } from '../fire/approvals.js';
import { approvalsSoFar, approvalsText, DONE, timeLeft } from '../fire/gates.js';
import { EXIT, UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { plural } from '../shared/records.js';
import { stateDir, storeExists } from '../store/place.js';
import { INTERVENTION_DECISIONS, type InterventionDecision } from '../shared/retry.js';
import { suggest } from '../shared/suggest.js';
import type { GateVerdict, StoredGate } from '../store/store.js';
import { resumeExitCode, resumingDeps, type ResumeFlags } from './resume.js';
import { alignedRows, formatTime } from './stored.js';

export interface ApprovalsFlags extends ResumeFlags {
  json?: boolean;
}

export interface DecideFlags extends ResumeFlags {
  as?: string;
  comment?: string;
}

type DeliveryState = 'delivered' | 'pending' | 'failing' | 'gave-up';

/** Where the gate's notification stands; undefined for cli (trig approvals is how people learn of it). */
function deliveryState(gate: StoredGate): DeliveryState | undefined {
  const n = gate.notification;
  if (!n) return undefined;
  if (n.deliveredAt) return 'delivered';
  if (n.nextAt === null) return 'gave-up';
  return n.lastError ? 'failing' : 'pending';
}

/** Whether and how the gate's channel told people, in words. */
function notification(gate: StoredGate): string {
  const n = gate.notification;
  const state = deliveryState(gate);
  if (!n || !state) return gate.settings.uses === 'cli' ? 'cli: trig approvals lists it' : `${gate.settings.uses}: not notified`;
  const attempts = plural(n.attempts, 'attempt');
  switch (state) {
    case 'delivered':
      return `${n.channel}: delivered ${formatTime(n.deliveredAt!)} (${attempts})`;
    case 'pending':
      return `${n.channel}: not sent yet`;
    case 'failing':
      return `${n.channel}: failing (${attempts}, next ${formatTime(n.nextAt!)}): ${oneLine(n.lastError!)}`;
    case 'gave-up':
      return `${n.channel}: failed: ${oneLine(n.lastError ?? 'given up')}`;
  }
}

/** The notification as `trig approvals --json` gives it. */
function deliveryJson(gate: StoredGate): Record<string, unknown> | null {
  const n = gate.notification;
  const state = deliveryState(gate);
  if (!n || !state) return null;
  return {
    channel: n.channel,
    state,
    attempts: n.attempts,
    lastError: n.lastError,
    nextAttemptAt: n.nextAt?.toISOString() ?? null,
    deliveredAt: n.deliveredAt?.toISOString() ?? null,
  };
}

const isIntervention = (gate: StoredGate): boolean => gate.settings.kind === 'intervention';

/** A waiting gate as `trig approvals --json` gives it (schemas/approvals-output.schema.json). */
function gateJson(gate: StoredGate, now: Date): Record<string, unknown> {
  return {
    id: gate.id,
    kind: isIntervention(gate) ? 'intervention' : 'approval',
    runId: gate.runId,
    definition: gate.definition,
    file: gate.file,
    event: gate.eventName,
    step: gate.step,
    message: gate.message,
    uses: gate.settings.uses,
    notified: gate.settings.uses === 'cli' || deliveryState(gate) === 'delivered',
    notification: notification(gate),
    delivery: deliveryJson(gate),
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
    io.stdout.write(alignedRows([['GATE', 'RUN', 'DEFINITION', 'AT', 'DECISION', 'TIME LEFT', 'NOTIFIED', 'MESSAGE'], ...rows]));
  }
  return resumeExitCode(outcome);
}

/** What a decision did, in one line. */
function decided(outcome: DecisionOutcome['outcome'], verdict: GateVerdict, by: string): string {
  if ('refused' in outcome) return outcome.refused;
  const gate =
    'waiting' in outcome
      ? outcome.waiting
      : 'rejected' in outcome
        ? outcome.rejected
        : 'approved' in outcome
          ? outcome.approved
          : outcome.intervened;
  const head = `${DONE[verdict]} ${isIntervention(gate) ? `step ${oneLine(gate.step)} at gate` : 'gate'} ${gate.id} as ${oneLine(by)}`;
  if ('rejected' in outcome) return `${head}: run ${gate.runId} (${oneLine(gate.definition)}) ends rejected`;
  if (verdict === 'abort') return `${head}: run ${gate.runId} (${oneLine(gate.definition)}) ends failed`;
  if ('waiting' in outcome) {
    const approvals = approvalsSoFar(gate).length;
    return `${head}: ${approvals} of ${gate.settings.minApprovers} approvals; the run still waits (${formatTime(gate.deadline)} at the latest)`;
  }
  return `${head}: the run goes on`;
}

/** `trig approve <gate>`, `trig reject <gate>`, and `trig intervene <gate> <decision>`. */
export async function runDecide(verdict: GateVerdict, gate: string, flags: DecideFlags, io: Output): Promise<number> {
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

/** `trig intervene <gate> <decision>`: a person's decision about a failed step. */
export async function runIntervene(gate: string, decision: string, flags: DecideFlags, io: Output): Promise<number> {
  if (!(INTERVENTION_DECISIONS as readonly string[]).includes(decision)) {
    const guess = suggest(decision, INTERVENTION_DECISIONS);
    throw new UsageError(
      `${JSON.stringify(decision)} is not a decision: retry, ignore or abort${guess ? `; did you mean "${guess}"?` : ''}`,
    );
  }
  return runDecide(decision as InterventionDecision, gate, flags, io);
}
