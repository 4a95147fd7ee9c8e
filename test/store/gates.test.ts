import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { checkLink, decideByLink } from '../../src/fire/approvals.js';
import { tokenHash } from '../../src/fire/notify/index.js';
import { ownerAlive, thisProcess } from '../../src/fire/record.js';
import { resumeHinted } from '../../src/store/place.js';
import type { GateDecision, GateSettings, Owner, RunSnapshot, Store } from '../../src/store/store.js';
import { storeOpener } from '../helpers/store.js';

// Guarantee 10 of src/store/store.ts (approval gates), against a real SQLite file: a run at
// a gate is never lost, never resumed without the decisions that approve it, and decided by
// exactly one of racing deciders.

const { freshDir, open } = storeOpener('trig-store-gates-');

const ME: Owner = thisProcess();
const DEAD: Owner = { host: os.hostname(), pid: 999_999_999, startedAt: '1' };
const GATE = 'abcdef012345';

const SNAPSHOT: RunSnapshot = {
  document: { pipeline: { name: 'gated' } },
  index: 0,
  event: 'push',
  trigger: {},
  inputs: {},
  workdir: '/work',
  containerRuntime: 'docker',
  quiet: false,
  chainDepth: 3,
};

const SETTINGS: GateSettings = { uses: 'cli', timeout: '24h', timeoutAction: 'reject', minApprovers: 2, approvers: [] };

/** A run of `gated` that reached its gate (step `wait`), its trig gone. */
async function gatedRun(store: Store, settings: Partial<GateSettings> = {}, group?: string, notify = false): Promise<string> {
  const { eventId } = await store.admitEvent({ name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} });
  const [added] = await store.dispatchEvent(
    eventId,
    [],
    [
      {
        key: `gated ${eventId}`,
        file: '/defs/f.yaml',
        definition: 'gated',
        ...(group ? { group: { name: group, cancelInProgress: true } } : {}),
      },
    ],
    DEAD,
  );
  const id = added!.id;
  expect(await store.claimRun(id, DEAD)).toBe('run');
  const steps = [{ stage: 's', name: 'build', status: 'succeeded', exitCode: 0, durationMs: 3 }];
  await store.suspendRun(id, {
    resume: {
      kind: 'approval',
      stage: 0,
      path: [1],
      step: 'wait',
      attempt: 0,
      attempts: [],
      steps,
      at: new Date(Date.now() + 60_000).toISOString(),
      gate: GATE,
    },
    snapshot: SNAPSHOT,
    steps: [...steps, { stage: 's', name: 'wait', status: 'awaiting_approval', exitCode: null, durationMs: 0 }],
    reason: 'step wait: awaiting approval',
    owner: null,
    gate: { step: 'wait', message: 'ship it?', settings: { ...SETTINGS, ...settings }, ...(notify ? { notify } : {}) },
  });
  return id;
}

const by = (name: string, verdict: 'approve' | 'reject' = 'approve', comment?: string): GateDecision => ({
  verdict,
  by: name,
  at: new Date().toISOString(),
  from: 'cli',
  ...(comment ? { comment } : {}),
});

async function statusOf(store: Store, id: string): Promise<[string, string | null]> {
  const found = await store.findRun(id);
  if (!('found' in found)) throw new Error(found.missing);
  return [found.found.status, found.found.reason];
}

describe('approval gates', () => {
  it('keep the run awaiting_approval, never lost nor resumable, listed with its gate, and keep the hint file', async () => {
    const dir = freshDir();
    const store = open(dir);
    const id = await gatedRun(store);
    expect(await store.reapLost(ownerAlive)).toEqual([]);
    expect(await statusOf(store, id)).toEqual(['awaiting_approval', 'step wait: awaiting approval']);
    expect(await store.resumableRuns()).toEqual([]);
    expect(resumeHinted(dir)).toBe(true);
    const [gate] = await store.listGates();
    expect(gate).toMatchObject({
      id: GATE,
      runId: id,
      definition: 'gated',
      step: 'wait',
      message: 'ship it?',
      decisions: [],
      outcome: null,
    });
    expect(await store.findGate('abcd')).toEqual({ found: gate });
    expect(await store.findGate('ffff')).toEqual({ missing: 'no gate ffff' });
    // Not without the decisions: claimResume refuses the run.
    expect(await store.claimResume(id, { owner: ME, from: null })).toBeUndefined();
  });

  it('count distinct approvers up to min-approvers, then hand the run to the last one, once', async () => {
    const store = open(freshDir());
    const id = await gatedRun(store);
    expect(await store.decideGate(GATE, by('ann'), ME)).toMatchObject({ waiting: { outcome: null } });
    expect(await store.decideGate(GATE, by('ann'), ME)).toEqual({
      refused: `"ann" has decided gate ${GATE} already: min-approvers counts distinct names`,
    });
    const approved = await store.decideGate(GATE, by('bob', 'approve', 'lgtm'), ME);
    expect(approved).toMatchObject({
      approved: { outcome: 'approved' },
      claimed: { run: { id, status: 'running' }, resume: { kind: 'approval', gate: GATE } },
    });
    expect(await store.decideGate(GATE, by('cy'), ME)).toEqual({ refused: `gate ${GATE} is decided already: approved (by ann, bob)` });
    expect(await store.listGates()).toEqual([]);
  });

  it('refuse a name not among the approvers, and a decision after the deadline', async () => {
    const store = open(freshDir());
    await gatedRun(store, { approvers: ['ann'], minApprovers: 1 });
    expect(await store.decideGate(GATE, by('bob'), ME)).toEqual({ refused: `"bob" may not decide gate ${GATE}: its approvers are "ann"` });
    const late = { ...by('ann'), at: new Date(Date.now() + 120_000).toISOString() };
    expect(await store.decideGate(GATE, late, ME)).toMatchObject({ refused: expect.stringMatching(/^gate abcdef012345 timed out at /) });
    expect(await store.decideGate(GATE, by('ann'), ME)).toHaveProperty('approved');
  });

  it('end the run rejected on a rejection, the gate step saying who and why', async () => {
    const store = open(freshDir());
    const id = await gatedRun(store);
    await store.decideGate(GATE, by('ann'), ME);
    expect(await store.decideGate(GATE, by('bob', 'reject', 'not today'), ME)).toHaveProperty('rejected');
    expect(await statusOf(store, id)).toEqual(['rejected', 'step wait: rejected by bob: not today']);
    const found = await store.findRun(id);
    expect('found' in found && found.found.steps.map((s) => [s.name, s.status])).toEqual([
      ['build', 'succeeded'],
      ['wait', 'rejected'],
    ]);
  });

  it('take the timeout-action as a decision by timeout', async () => {
    const store = open(freshDir());
    const id = await gatedRun(store);
    const timeout: GateDecision = { verdict: 'reject', by: 'timeout', at: new Date().toISOString(), from: 'timeout' };
    await store.decideGate(GATE, timeout, ME);
    expect(await statusOf(store, id)).toEqual(['rejected', 'step wait: timed out after 24h without a decision (timeout-action: reject)']);
  });

  it('are decided by exactly one of several racing deciders (across connections)', async () => {
    const dir = freshDir();
    const [a, b, c] = [open(dir), open(dir), open(dir)];
    await gatedRun(a, { minApprovers: 1 });
    const outcomes = await Promise.all([a, b, c].map((store, i) => store.decideGate(GATE, by(`p${i}`), ME)));
    expect(outcomes.filter((o) => 'approved' in o)).toHaveLength(1);
    expect(outcomes.filter((o) => 'refused' in o)).toHaveLength(2);
  });

  it('let no forged row pass: a gated run set to retrying, or a gate marked approved without decisions, is not claimed', async () => {
    const dir = freshDir();
    const store = open(dir);
    const id = await gatedRun(store);
    const raw = new Database(path.join(dir, 'trig.db'));
    try {
      raw.prepare("UPDATE runs SET status = 'retrying' WHERE id = ?").run(id);
      raw.prepare("UPDATE gates SET outcome = 'approved' WHERE id = ?").run(GATE);
    } finally {
      raw.close();
    }
    expect((await store.resumableRuns()).map((r) => r.id)).toEqual([id]);
    expect(await store.claimResume(id, { owner: ME, from: null, dueBy: new Date(Date.now() + 3_600_000) })).toBeUndefined();
    expect((await statusOf(store, id))[0]).toBe('retrying');
  });

  it('hold the concurrency group: a newer run with cancel-in-progress cancels the waiting one outright', async () => {
    const store = open(freshDir());
    const id = await gatedRun(store, {}, 'deploy');
    const { eventId } = await store.admitEvent({ name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} });
    await store.dispatchEvent(
      eventId,
      [],
      [{ key: 'newer', file: '/defs/f.yaml', definition: 'gated', group: { name: 'deploy', cancelInProgress: true } }],
      ME,
    );
    expect((await statusOf(store, id))[0]).toBe('cancelled');
    expect(await store.listGates()).toEqual([]);
    expect(await store.decideGate(GATE, by('ann'), ME)).toEqual({ refused: `gate ${GATE}: its run ${id} is cancelled` });
  });
});

// Guarantee 11: a gate's notification, recorded with it, attempted by one trig at a time;
// link tokens stored as hashes, each person's used once.
describe('notifications and link tokens', () => {
  it('a notified gate has its notification due at once; one claim per attempt, whatever races', async () => {
    const dir = freshDir();
    const store = open(dir);
    await gatedRun(store, { uses: 'webhook' }, undefined, true);
    const now = new Date();
    expect(await store.dueNotifications(now)).toEqual([GATE]);
    const later = new Date(now.getTime() + 60_000);
    // Two connections, as two trig processes would have.
    const other = open(dir);
    const claims = [
      await store.claimNotification(GATE, { now, retryAt: later }),
      await other.claimNotification(GATE, { now, retryAt: later }),
    ];
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(claims.find(Boolean)).toMatchObject({ channel: 'webhook', attempts: 1, deliveredAt: null });
    expect(await store.dueNotifications(now)).toEqual([]);
    await store.finishNotification(GATE, { error: 'HTTP 500', retryAt: new Date(0) });
    const [gate] = await store.listGates();
    expect(gate!.notification).toMatchObject({ attempts: 1, lastError: 'HTTP 500', nextAt: new Date(0), deliveredAt: null });
    expect(await store.dueNotifications(now)).toEqual([GATE]);
    expect(await store.claimNotification(GATE, { now, retryAt: later })).toMatchObject({ attempts: 2 });
    await store.finishNotification(GATE, { delivered: now });
    expect((await store.listGates())[0]!.notification).toMatchObject({ attempts: 2, lastError: null, nextAt: null, deliveredAt: now });
    expect(await store.dueNotifications(new Date(now.getTime() + 10 * 3600_000))).toEqual([]);
  });

  it('a cli gate has none; a decided gate is not due any more', async () => {
    const store = open(freshDir());
    await gatedRun(store);
    expect((await store.listGates())[0]!.notification).toBeNull();
    expect(await store.dueNotifications(new Date())).toEqual([]);
    const notified = open(freshDir());
    await gatedRun(notified, { uses: 'slack', minApprovers: 1 }, undefined, true);
    await notified.decideGate(GATE, by('ann', 'reject'), ME);
    expect(await notified.dueNotifications(new Date())).toEqual([]);
  });

  it('links: 404 for no gate, 403 for a token not its own or used, 409 once decided, 400 without a name for anyone', async () => {
    const store = open(freshDir());
    await gatedRun(store, { uses: 'webhook', approvers: ['ann', 'bob'] }, undefined, true);
    await store.addApprovalTokens(GATE, [
      { name: 'ann', hash: tokenHash('ann-token') },
      { name: 'bob', hash: tokenHash('bob-token') },
    ]);
    expect((await store.approvalTokens(GATE)).map((t) => [t.name, t.usedAt]).sort()).toEqual([
      ['ann', null],
      ['bob', null],
    ]);
    const now = new Date();
    expect(await checkLink(store, 'abcd', 'ann-token')).toEqual({ status: 404, reason: 'no gate abcd' });
    expect(await checkLink(store, 'ffffffffffff', 'ann-token')).toMatchObject({ status: 404 });
    expect(await checkLink(store, GATE, '')).toMatchObject({ status: 403 });
    expect(await checkLink(store, GATE, 'ann-token ')).toMatchObject({ status: 403 });
    expect(await checkLink(store, GATE, 'ann-token')).toMatchObject({ status: 200, token: { name: 'ann' } });
    // A person's link decides as that person, whatever name the form says.
    expect(await decideByLink(store, { gate: GATE, token: 'ann-token', verdict: 'approve', name: 'mallory', now })).toMatchObject({
      status: 200,
      by: 'ann',
      outcome: { waiting: {} },
    });
    expect(await decideByLink(store, { gate: GATE, token: 'ann-token', verdict: 'approve', now })).toMatchObject({ status: 403 });
    expect(await store.useApprovalToken(GATE, tokenHash('ann-token'), now)).toBe(false);
    const last = await decideByLink(store, { gate: GATE, token: 'bob-token', verdict: 'approve', now });
    expect(last).toMatchObject({ status: 200, by: 'bob', outcome: { approved: {} }, claimed: { run: { status: 'running' } } });
    expect(await decideByLink(store, { gate: GATE, token: 'bob-token', verdict: 'reject', now })).toMatchObject({ status: 409 });
    const found = await store.findGate(GATE);
    expect('found' in found && found.found.decisions.map((d) => [d.by, d.from])).toEqual([
      ['ann', 'http'],
      ['bob', 'http'],
    ]);

    const anyone = open(freshDir());
    await gatedRun(anyone, { uses: 'webhook', minApprovers: 1 }, undefined, true);
    await anyone.addApprovalTokens(GATE, [{ name: '', hash: tokenHash('anyone') }]);
    expect(await decideByLink(anyone, { gate: GATE, token: 'anyone', verdict: 'approve', now })).toMatchObject({ status: 400 });
    expect(await decideByLink(anyone, { gate: GATE, token: 'anyone', verdict: 'approve', name: 'a\u001bb', now })).toMatchObject({
      status: 400,
    });
    expect(await decideByLink(anyone, { gate: GATE, token: 'anyone', verdict: 'reject', name: ' carol ', now })).toMatchObject({
      status: 200,
      by: 'carol',
      outcome: { rejected: {} },
    });
  });
});
