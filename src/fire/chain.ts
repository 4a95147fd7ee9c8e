// Runs that lead to runs. When a run ends, the fire core fires `workflow_run` (action
// completed) for it, and `pipeline_failed` when it failed, through the core itself: the
// store deduplicates them (the delivery key is the run and its outcome, so a parent that
// ends again the same way starts nothing new), concurrency groups hold their runs, and
// each carries the chain of runs that led to it. The chain is what keeps this bounded:
// an event deeper than the chain depth starts nothing, and a definition never runs for an
// event its own run is already part of, so a definition that listens to its own end
// cannot loop. Both stops are recorded as the decisions' reasons.

import path from 'node:path';
import type { RunStatus } from '../execute/run.js';
import type { Decision, MatchedDecision } from '../match/decide.js';
import type { FiredDefinition } from '../report/fire-format.js';
import type { ChainLink } from '../store/store.js';

/** workflow_run's conclusion for each way a run ends; a run skipped by its `if:` fires nothing. */
const CONCLUSIONS: Partial<Record<RunStatus, string>> = {
  succeeded: 'success',
  failed: 'failure',
  timed_out: 'timed_out',
  cancelled: 'cancelled',
  blocked: 'action_required',
};

/** Run statuses that also fire `pipeline_failed`. */
const FAILED: readonly RunStatus[] = ['failed', 'timed_out'];

/** One event to fire after a run ended. */
export interface ChainedEvent {
  event: 'workflow_run' | 'pipeline_failed';
  payload: Record<string, unknown>;
  /** Unique per run and outcome: the same run ending the same way fires it once. */
  deliveryKey: string;
  chain: ChainLink[];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The events the ends of a fire's runs fire, in the order of the definitions: for each run
 * that ended (not one already run for the delivery, nor one skipped by its `if:`),
 * `workflow_run`, then `pipeline_failed` if it failed or timed out.
 */
export function chainedEvents(
  definitions: readonly FiredDefinition[],
  origin: { eventId?: string; chain: readonly ChainLink[] },
  cwd: string,
): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  for (const d of definitions) {
    if (!d.decision.matched || !d.run) continue;
    const conclusion = CONCLUSIONS[d.run.status];
    if (!conclusion) continue;
    const decision: MatchedDecision = d.decision;
    const link: ChainLink = {
      ...(origin.eventId ? { eventId: origin.eventId } : {}),
      event: decision.event,
      runId: d.run.id,
      definition: decision.name,
      file: path.resolve(cwd, decision.file),
    };
    const chain = [...origin.chain, link];
    const repo = text(decision.trigger.repo);
    const branch = text(decision.trigger.branch);
    const where = { ...(repo ? { repo } : {}), ...(branch ? { branch } : {}) };
    events.push({
      event: 'workflow_run',
      payload: { action: 'completed', conclusion, workflow: decision.name, runId: d.run.id, event: decision.event, ...where, chain },
      deliveryKey: `workflow_run ${d.run.id} ${conclusion}`,
      chain,
    });
    if (FAILED.includes(d.run.status)) {
      events.push({
        event: 'pipeline_failed',
        payload: { ...where, pipeline: decision.name, executionId: d.run.id, chain },
        deliveryKey: `pipeline_failed ${d.run.id}`,
        chain,
      });
    }
  }
  return events;
}

/**
 * The decisions for a chained event, with the chain's limits applied: past the chain depth
 * nothing starts; within it, a definition whose run is already in the chain does not.
 * `stopped` says why the whole chain stopped, when it did.
 */
export function guardChain(
  decisions: readonly Decision[],
  chain: readonly ChainLink[],
  depth: number,
  cwd: string,
): { decisions: Decision[]; stopped?: string } {
  if (!chain.length) return { decisions: [...decisions] };
  const tooDeep = chain.length > depth ? `the chain is ${chain.length} runs long, deeper than the chain depth (${depth})` : undefined;
  const guarded = decisions.map((d): Decision => {
    if (!d.matched) return d;
    const file = path.resolve(cwd, d.file);
    const earlier = chain.find((link) => link.definition === d.name && link.file === file);
    const why = tooDeep ?? (earlier ? `${d.name} is already in this chain (run ${earlier.runId})` : undefined);
    if (!why) return d;
    return { file: d.file, name: d.name, valid: true, matched: false, chainStopped: true, reason: `chain stopped: ${why}` };
  });
  return { decisions: guarded, ...(tooDeep && guarded.some(isChainStopped) ? { stopped: tooDeep } : {}) };
}

/** Whether the definition matched but its chain stopped it. */
export function isChainStopped(d: Decision): boolean {
  return d.valid && !d.matched && d.chainStopped === true;
}
