import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownerAlive, thisProcess } from '../../src/fire/record.js';
import { RESUME_HINT_FILE, resumeHinted } from '../../src/store/place.js';
import type { Owner, ResumePoint, RunSnapshot, Store } from '../../src/store/store.js';
import { storeOpener } from '../helpers/store.js';

// Guarantee 7 of src/store/store.ts (suspended runs and their claim), and how guarantees 3
// and 4 treat a suspended run, against a real SQLite file.

const { freshDir, open } = storeOpener('trig-store-resume-');

const ME: Owner = thisProcess();
const DEAD: Owner = { host: os.hostname(), pid: 999_999_999, startedAt: '1' };
const OTHER: Owner = { host: os.hostname(), pid: ME.pid, startedAt: 'another start' };

const SNAPSHOT: RunSnapshot = {
  document: { pipeline: { name: 'flaky' } },
  index: 0,
  event: 'push',
  trigger: { branch: 'main' },
  inputs: {},
  workdir: '/work',
  containerRuntime: 'docker',
  quiet: false,
  chainDepth: 3,
};

function point(at: Date): ResumePoint {
  return {
    kind: 'retry',
    stage: 0,
    path: [1],
    step: 'try',
    attempt: 2,
    attempts: [{ attempt: 1, status: 'failed', exitCode: 1, durationMs: 5, reason: 'exited with code 1' }],
    steps: [{ stage: 's', name: 'first', status: 'succeeded', exitCode: 0, durationMs: 3 }],
    at: at.toISOString(),
  };
}

/** A running run of `definition` (its group, if given), owned by `owner`. */
async function runningRun(store: Store, definition: string, owner: Owner, group?: string): Promise<string> {
  const { eventId } = await store.admitEvent({ name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} });
  const [added] = await store.dispatchEvent(
    eventId,
    [],
    [{ key: definition, file: '/defs/f.yaml', definition, ...(group ? { group: { name: group, cancelInProgress: true } } : {}) }],
    owner,
  );
  expect(await store.claimRun(added!.id, owner)).toBe('run');
  return added!.id;
}

async function suspend(store: Store, id: string, at: Date, owner: Owner | null): Promise<void> {
  const resume = point(at);
  await store.suspendRun(id, {
    resume,
    snapshot: SNAPSHOT,
    steps: [...resume.steps, { stage: 's', name: 'try', status: 'retrying', exitCode: 1, durationMs: 5, attempts: resume.attempts }],
    reason: 'step try: attempt 1 of 3 failed',
    owner,
  });
}

async function statusOf(store: Store, id: string): Promise<[string, string | null]> {
  const found = await store.findRun(id);
  if (!('found' in found)) throw new Error(found.missing);
  return [found.found.status, found.found.reason];
}

describe('suspended runs', () => {
  it('are listed with their owner and due time, keep their steps, and are never marked lost, even when their owner died', async () => {
    const store = open(freshDir());
    const id = await runningRun(store, 'flaky', DEAD);
    const at = new Date(Date.now() - 1000);
    await suspend(store, id, at, DEAD);
    expect(await store.reapLost(ownerAlive)).toEqual([]);
    expect(await statusOf(store, id)).toEqual(['retrying', 'step try: attempt 1 of 3 failed']);
    expect(await store.resumableRuns()).toEqual([{ id, resumeAt: at, owner: DEAD }]);
    const found = await store.findRun(id);
    expect('found' in found && found.found.steps.map((s) => [s.name, s.status])).toEqual([
      ['first', 'succeeded'],
      ['try', 'retrying'],
    ]);
  });

  it('are claimed by exactly one of several takers (across connections), with the resume point and snapshot, and only when due', async () => {
    const dir = freshDir();
    const [a, b, c] = [open(dir), open(dir), open(dir)];
    const id = await runningRun(a, 'flaky', DEAD);
    const at = new Date(Date.now() + 60_000);
    await suspend(a, id, at, null);
    // Not due yet: nobody gets it.
    expect(await b.claimResume(id, { owner: ME, from: null, dueBy: new Date() })).toBeUndefined();
    const claims = await Promise.all(
      [a, b, c].map((store, i) => store.claimResume(id, { owner: { ...ME, startedAt: `taker ${i}` }, from: null, dueBy: at })),
    );
    const won = claims.filter((claim) => claim !== undefined);
    expect(won).toHaveLength(1);
    expect(won[0]!.resume).toEqual(point(at));
    expect(won[0]!.snapshot).toEqual(SNAPSHOT);
    expect(won[0]!.run.status).toBe('running');
    expect(await statusOf(c, id)).toEqual(['running', null]);
    // Claimed: no longer suspended.
    expect(await c.resumableRuns()).toEqual([]);
    expect(await c.claimResume(id, { owner: ME, from: null })).toBeUndefined();
  });

  it('are claimed back by their owner only, and a taker must name the owner it found (a run its owner took back is not taken)', async () => {
    const store = open(freshDir());
    const id = await runningRun(store, 'flaky', ME);
    await suspend(store, id, new Date(Date.now() - 1000), ME);
    expect(await store.claimResume(id, { owner: OTHER, from: OTHER })).toBeUndefined();
    expect(await store.claimResume(id, { owner: OTHER, from: null })).toBeUndefined();
    expect((await store.claimResume(id, { owner: ME, from: ME }))?.run.id).toBe(id);
    expect(await store.claimResume(id, { owner: OTHER, from: ME })).toBeUndefined();
  });

  it('keep the hint file beside the store while one may be suspended; looking clears it when none is', async () => {
    const dir = freshDir();
    const store = open(dir);
    expect(resumeHinted(dir)).toBe(false);
    const id = await runningRun(store, 'flaky', ME);
    await suspend(store, id, new Date(), null);
    expect(resumeHinted(dir)).toBe(true);
    expect([readFileSync(path.join(dir, RESUME_HINT_FILE), 'utf8'), statSync(path.join(dir, RESUME_HINT_FILE)).mode & 0o777]).toEqual([
      '',
      0o600,
    ]);
    expect(await store.resumableRuns()).toHaveLength(1);
    expect(resumeHinted(dir)).toBe(true);
    await store.claimResume(id, { owner: ME, from: null });
    expect(await store.resumableRuns()).toEqual([]);
    expect(existsSync(path.join(dir, RESUME_HINT_FILE))).toBe(false);
  });

  it('hold their concurrency group: a newer run waits; with cancel-in-progress the suspended run is cancelled outright', async () => {
    const store = open(freshDir());
    const id = await runningRun(store, 'deploy', DEAD, 'g');
    await suspend(store, id, new Date(), null);
    const { eventId } = await store.admitEvent({ name: 'push', source: 'cli', at: new Date(), places: ['/defs'], payload: {} });
    const [newer] = await store.dispatchEvent(
      eventId,
      [],
      [{ key: 'newer', file: '/defs/f.yaml', definition: 'deploy', group: { name: 'g', cancelInProgress: false } }],
      ME,
    );
    expect(await store.claimRun(newer!.id, ME)).toBe('wait');
    const [newest] = await store.dispatchEvent(
      eventId,
      [],
      [{ key: 'newest', file: '/defs/f.yaml', definition: 'deploy', group: { name: 'g', cancelInProgress: true } }],
      ME,
    );
    expect((await statusOf(store, id))[0]).toBe('cancelled');
    expect(await store.claimResume(id, { owner: ME, from: null })).toBeUndefined();
    expect(await store.claimRun(newest!.id, ME)).toBe('run');
  });
});
