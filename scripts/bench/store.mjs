// A store holding many finished runs, for the `trig runs` case of the benchmark. Filled
// through the store's own interface (src/store/sqlite.ts), as fires would fill it: each
// event admitted with its decision and run, the run claimed, given a few log lines and
// finished. Only the events' times are made up, spread over the last days.
import path from 'node:path';
import { loadTs } from '../load-ts.mjs';

const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'failed', 'timed_out', 'cancelled'];

/** Fills the store in `stateDir` with `count` events of one run each, fired with the definitions of `place`. */
export async function fillStore(stateDir, place, count) {
  const { openSqliteStore } = await loadTs('src/store/sqlite.ts');
  const store = openSqliteStore(stateDir, { keepEvents: count });
  const owner = { host: 'bench', pid: process.pid, startedAt: '' };
  const start = Date.now() - count * 60_000;
  const file = path.join(place, 'true.yaml');
  for (let i = 0; i < count; i++) {
    const id = i.toString(16).padStart(12, '0');
    const admission = await store.admitEvent(
      { id, name: 'repo_created', source: 'cli', at: new Date(start + i * 60_000), places: [place], payload: { repo: `acme/svc-${i % 50}` } },
      {
        decisions: [{ file, definition: 'true-step', matched: true, reason: 'matched repo_created' }],
        runs: [{ key: `cli\nevent ${id}\ntrue-step`, file, definition: 'true-step' }],
        owner,
      },
    );
    const runId = admission.runs[0].id;
    await store.claimRun(runId, owner);
    await store.appendLog(runId, [
      { step: 'only/noop', text: `run ${i}: start` },
      { step: 'only/noop', text: `run ${i}: done` },
    ]);
    const status = STATUSES[i % STATUSES.length];
    await store.finishRun(runId, {
      status,
      exitCode: status === 'succeeded' ? 0 : 1,
      steps: [{ stage: 'only', name: 'noop', status, exitCode: status === 'succeeded' ? 0 : 1, durationMs: 5 }],
    });
  }
  store.close();
}
