// Deciding approval gates (trig approvals, trig approve, trig reject): every command first
// enforces the timeouts of the gates past their deadline (gates.ts), then does its part;
// a run whose gate is approved (by the last needed approval, or by its timeout) is carried
// on here, to its end, as trig resume carries on a retry (resume.ts).

import { UsageError } from '../shared/errors.js';
import type { DecisionSource, GateOutcome, StoredGate } from '../store/store.js';
import { decideGate, expireGates, type ExpiredGate } from './gates.js';
import { thisProcess } from './record.js';
import { carryOn, type ResumeDeps, type ResumeOutcome } from './resume.js';

export interface ApprovalsOutcome extends Pick<ResumeOutcome, 'resumed' | 'failed' | 'signal'> {
  /** The gates that wait for a decision (after the timeouts were enforced). */
  gates: StoredGate[];
  expired: ExpiredGate[];
}

export interface DecisionRequest {
  /** The gate's id, or a unique start of it. */
  gate: string;
  verdict: 'approve' | 'reject';
  by: string;
  comment?: string;
  /** Where the decision was made: `cli` unless told (trig serve's page says `http`). */
  from?: Exclude<DecisionSource, 'timeout'>;
  quiet?: boolean;
  /** Told what the decision did, before a run it carries on starts. */
  onDecided?(outcome: GateOutcome): void;
}

export interface DecisionOutcome extends Pick<ResumeOutcome, 'resumed' | 'failed' | 'signal'> {
  outcome: GateOutcome;
  expired: ExpiredGate[];
}

/** The gates that wait, once the expired ones took their timeout-action (their approved runs carried on). */
export async function listApprovals(request: { quiet?: boolean }, deps: ResumeDeps): Promise<ApprovalsOutcome> {
  const store = await deps.openStore();
  try {
    const { expired, claimed } = await expireGates(store, deps.now(), thisProcess());
    const carried = await carryOn(claimed, store, request, deps);
    return { ...carried, gates: await store.listGates(), expired };
  } finally {
    store.close();
  }
}

/** Records a person's decision; the last needed approval carries the run on here, a rejection ends it. */
export async function decideApproval(request: DecisionRequest, deps: ResumeDeps): Promise<DecisionOutcome> {
  // Trimmed: "ann " is ann, or one person could count twice towards min-approvers.
  const by = request.by.trim();
  if (!by || /[\p{Cc}]/u.test(by)) throw new UsageError(`--as ${JSON.stringify(request.by)}: expected a name on one line`);
  const store = await deps.openStore();
  try {
    const now = deps.now();
    const { expired, claimed } = await expireGates(store, now, thisProcess());
    const found = await store.findGate(request.gate);
    const decided =
      'missing' in found
        ? { outcome: { refused: found.missing } }
        : await decideGate(
            store,
            found.found.id,
            {
              verdict: request.verdict,
              by,
              at: now.toISOString(),
              from: request.from ?? 'cli',
              ...(request.comment !== undefined ? { comment: request.comment } : {}),
            },
            thisProcess(),
          );
    request.onDecided?.(decided.outcome);
    const carried = await carryOn(
      [...claimed, ...('claimed' in decided && decided.claimed ? [decided.claimed] : [])],
      store,
      request,
      deps,
    );
    return { ...carried, outcome: decided.outcome, expired };
  } finally {
    store.close();
  }
}
