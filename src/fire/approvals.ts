// Deciding approval gates (trig approvals, trig approve, trig reject): every command first
// enforces the timeouts of the gates past their deadline (gates.ts), then does its part;
// a run whose gate is approved (by the last needed approval, or by its timeout) is carried
// on here, to its end, as trig resume carries on a retry (resume.ts).

import { createHash } from 'node:crypto';
import { UsageError } from '../shared/errors.js';
import { sameBytes } from '../shared/standard-webhooks.js';
import type { ApprovalToken, ClaimedRun, DecisionSource, GateOutcome, GateVerdict, Store, StoredGate } from '../store/store.js';
import { decideGate, expireGates, retryNotifications, type ExpiredGate } from './gates.js';
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
  verdict: GateVerdict;
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
    await retryNotifications(store, deps.env, deps.now());
    const carried = await carryOn(claimed, store, request, deps);
    return { ...carried, gates: await store.listGates(), expired };
  } finally {
    store.close();
  }
}

/** A person's name as given (trimmed: "ann " is ann, or one person could count twice towards min-approvers), if it is one line. */
export function personName(raw: string): string | undefined {
  const by = raw.trim();
  return by && by.length <= 200 && !/[\p{Cc}]/u.test(by) ? by : undefined;
}

/** Records a person's decision; the last needed approval carries the run on here, a rejection ends it. */
export async function decideApproval(request: DecisionRequest, deps: ResumeDeps): Promise<DecisionOutcome> {
  const by = personName(request.by);
  if (by === undefined) throw new UsageError(`--as ${JSON.stringify(request.by)}: expected a name on one line`);
  const store = await deps.openStore();
  try {
    const now = deps.now();
    const { expired, claimed } = await expireGates(store, now, thisProcess());
    await retryNotifications(store, deps.env, now);
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

// Deciding through an approval link (trig serve's /approvals/<gate>/<verdict>?token=…). The
// token stands for an approver (or for anyone, when the gate names none); only its SHA-256
// is stored, and the one presented is compared with each stored hash of the gate in constant
// time. Answers follow HTTP: 404 no such gate, 403 a token that is not this gate's (forged,
// or another gate's) or already used, 409 a gate decided already, 400 no name where one is needed.

export type LinkCheck = { status: 400 | 403 | 404 | 409; reason: string } | { status: 200; gate: StoredGate; token: ApprovalToken };

const GATE_ID = /^[0-9a-f]{12}$/;

/** The stored token that the presented one hashes to, comparing against every stored hash (constant time each). */
function matchingToken(tokens: readonly ApprovalToken[], presented: string): ApprovalToken | undefined {
  const hash = createHash('sha256').update(presented).digest();
  let found: ApprovalToken | undefined;
  for (const token of tokens) if (sameBytes(Buffer.from(token.hash, 'hex'), hash)) found = token;
  return found;
}

/** Whether a link may be acted on: the gate waits and the token is one of its own, unused. */
export async function checkLink(store: Store, gateId: string, presented: string): Promise<LinkCheck> {
  // Exact ids only: a link never names a gate by a start of its id.
  const found = GATE_ID.test(gateId) ? await store.findGate(gateId) : undefined;
  if (!found || 'missing' in found || found.found.id !== gateId) return { status: 404, reason: `no gate ${gateId}` };
  const gate = found.found;
  const token = presented ? matchingToken(await store.approvalTokens(gate.id), presented) : undefined;
  if (!token) return { status: 403, reason: `this link's token is not valid for gate ${gate.id}` };
  if (gate.outcome !== null || gate.runStatus !== 'awaiting_approval')
    return {
      status: 409,
      reason: `gate ${gate.id} is decided already${gate.outcome ? `: ${gate.outcome}` : ` (its run is ${gate.runStatus})`}`,
    };
  if (token.name && (token.usedAt || gate.decisions.some((d) => d.by === token.name)))
    return { status: 403, reason: `this link was used already: ${token.name} has decided gate ${gate.id}` };
  return { status: 200, gate, token };
}

export interface LinkDecision {
  gate: string;
  token: string;
  verdict: 'approve' | 'reject';
  /** The name given on the page: needed for a token that stands for anyone, ignored otherwise. */
  name?: string;
  comment?: string;
  now: Date;
}

export type LinkOutcome =
  | { status: 400 | 403 | 404 | 409; reason: string }
  | { status: 200; by: string; outcome: Exclude<GateOutcome, { refused: string }>; claimed?: ClaimedRun };

/**
 * Decides through a link, by the same store call as trig approve (from: http). An approved
 * run is handed back claimed, for the caller to carry on (trig serve: in its pool, not
 * inside the request).
 */
export async function decideByLink(store: Store, request: LinkDecision): Promise<LinkOutcome> {
  const checked = await checkLink(store, request.gate, request.token);
  if (checked.status !== 200) return checked;
  const { gate, token } = checked;
  const by = token.name || personName(request.name ?? '');
  if (by === undefined) return { status: 400, reason: 'say who you are: a name on one line' };
  // A person's link is used once, whatever races: the second of two requests is refused here.
  if (token.name && !(await store.useApprovalToken(gate.id, token.hash, request.now)))
    return { status: 403, reason: `this link was used already: ${token.name} has decided gate ${gate.id}` };
  const from: DecisionSource = 'http';
  const comment = request.comment?.trim();
  const decided = await decideGate(
    store,
    gate.id,
    { verdict: request.verdict, by, at: request.now.toISOString(), from, ...(comment ? { comment } : {}) },
    thisProcess(),
  );
  if ('refused' in decided.outcome) {
    const now = await store.findGate(gate.id);
    const settled = 'found' in now && now.found.outcome !== null;
    return { status: settled ? 409 : 403, reason: decided.outcome.refused };
  }
  return { status: 200, by, outcome: decided.outcome, ...(decided.claimed ? { claimed: decided.claimed } : {}) };
}
