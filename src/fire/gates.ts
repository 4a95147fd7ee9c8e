// Approval gates in the fire core: a run that reaches an approval step or stage (or a
// definition's own `approval:`) is suspended in the store at that gate (status
// awaiting_approval, store guarantee 10); people decide it with trig approve / trig reject,
// and whichever trig looks next enforces its timeout. The run goes on through the retry
// path (resume.ts): claimed once, planned again from its snapshot, carried on after the gate.
// A step whose on-failure says manual-intervention waits at a gate of the same kind: one
// decision (trig intervene: retry, ignore, abort), or its timeout-action.

import { oneLine } from '../shared/printable.js';
import type { InterventionDecision } from '../shared/retry.js';
import type { ClaimedRun, GateDecision, GateOutcome, GateVerdict, Owner, Store, StoredGate } from '../store/store.js';

/** A decision's verdict as done: `approved`, `retried`. */
export const DONE: Record<GateVerdict, string> = {
  approve: 'approved',
  reject: 'rejected',
  retry: 'retried',
  ignore: 'ignored',
  abort: 'aborted',
};

/** What a run carried on after its gate says there: who approved it. */
export function approvedText(gate: StoredGate): string {
  const approvals = gate.decisions.filter((d) => d.verdict === 'approve');
  if (approvals.some((d) => d.from === 'timeout')) return `approved: no decision within ${gate.settings.timeout} (timeout-action: approve)`;
  // A comment is anyone's text: on one line, so that it cannot print a line of its own.
  const who = approvals.map((d) => (d.comment ? `${oneLine(d.by)} (${oneLine(d.comment)})` : oneLine(d.by)));
  return `approved by ${who.join(', ')}`;
}

/** What a manual intervention's decision says where the run goes on: `retried by ann (manual intervention: comment)`. */
export function intervenedText(gate: StoredGate): string {
  const decision = gate.decisions[gate.decisions.length - 1]!;
  const done = DONE[decision.verdict];
  if (decision.from === 'timeout') return `${done}: no decision within ${gate.settings.timeout} (timeout-action: ${decision.verdict})`;
  return `${done} by ${oneLine(decision.by)} (manual intervention${decision.comment ? `: ${oneLine(decision.comment)}` : ''})`;
}

/** The claimed run of a gate decided so that it goes on, its resume point saying who decided what. */
export function approvedRun(outcome: Extract<GateOutcome, { claimed: ClaimedRun }>): ClaimedRun {
  const { claimed } = outcome;
  if ('approved' in outcome) return { ...claimed, resume: { ...claimed.resume, approved: approvedText(outcome.approved) } };
  const gate = outcome.intervened;
  const decision = gate.decisions[0]!.verdict as InterventionDecision;
  const { timeoutRetry, ...resume } = claimed.resume;
  // A timeout that retries does so as its timeout-action says; a person's retry, as the step's own on-failure.
  const byTimeout = gate.decisions.some((d) => d.from === 'timeout');
  return {
    ...claimed,
    resume: {
      ...resume,
      approved: intervenedText(gate),
      decision,
      ...(decision === 'retry' && byTimeout && timeoutRetry ? { retryPolicy: timeoutRetry } : {}),
    },
  };
}

/** The names that approved the gate so far, first to last. */
export function approvalsSoFar(gate: StoredGate): string[] {
  return gate.decisions.filter((d) => d.verdict === 'approve').map((d) => d.by);
}

/** The approvals against the number needed, and by whom: `1/2 (ann)`; at a manual intervention, the decisions it takes. */
export function approvalsText(gate: StoredGate): string {
  if (gate.settings.kind === 'intervention') return 'retry|ignore|abort';
  const approvals = approvalsSoFar(gate);
  return `${approvals.length}/${gate.settings.minApprovers}${approvals.length ? ` (${approvals.map((a) => oneLine(a)).join(', ')})` : ''}`;
}

/** How long until the gate's deadline, for people: `23h59m`, `4m10s`, `40s`, `expired`. */
export function timeLeft(gate: StoredGate, now: Date): string {
  const seconds = Math.floor((gate.deadline.getTime() - now.getTime()) / 1000);
  if (seconds <= 0) return 'expired';
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60];
  if (h) return `${h}h${m}m`;
  return m ? `${m}m${s}s` : `${s}s`;
}

/** Records a decision, the outcome, with an approved run ready to be carried on. */
export async function decideGate(
  store: Store,
  gate: string,
  decision: GateDecision,
  owner: Owner,
): Promise<{ outcome: GateOutcome; claimed?: ClaimedRun }> {
  const outcome = await store.decideGate(gate, decision, owner);
  return 'claimed' in outcome ? { outcome, claimed: approvedRun(outcome) } : { outcome };
}

/** A gate that took its timeout-action. */
export interface ExpiredGate {
  gate: StoredGate;
  action: GateVerdict;
}

/** What a gate's timeout did, in one line. */
export function expiredText({ gate, action }: ExpiredGate): string {
  const what = DONE[action];
  return `gate ${gate.id} (run ${gate.runId}, ${oneLine(gate.definition)}) timed out after ${gate.settings.timeout}: ${what} (timeout-action)`;
}

/**
 * Gates past their deadline take their timeout-action, recorded as a decision by `timeout`:
 * `reject` ends the run rejected; `approve` claims it, to be carried on by the caller.
 */
export async function expireGates(store: Store, now: Date, owner: Owner): Promise<{ expired: ExpiredGate[]; claimed: ClaimedRun[] }> {
  const expired: ExpiredGate[] = [];
  const claimed: ClaimedRun[] = [];
  for (const gate of await store.listGates()) {
    if (gate.deadline > now) continue;
    const action = gate.settings.timeoutAction;
    const decided = await decideGate(store, gate.id, { verdict: action, by: 'timeout', at: now.toISOString(), from: 'timeout' }, owner);
    // Another trig enforced it first: it is theirs.
    if ('refused' in decided.outcome) continue;
    expired.push({ gate: 'approved' in decided.outcome ? decided.outcome.approved : gate, action });
    if (decided.claimed) claimed.push(decided.claimed);
  }
  return { expired, claimed };
}

/**
 * The notifications of waiting gates that are due (a first attempt a dead trig never made,
 * or a retry after a failure) get one attempt each. The channels are loaded only when one
 * is due: the cron tick's look stays one query.
 */
export async function retryNotifications(store: Store, env: NodeJS.ProcessEnv, now: Date): Promise<void> {
  if (!(await store.dueNotifications(now)).length) return;
  const { retryDue } = await import('./notify/index.js');
  await retryDue(store, env, now);
}
