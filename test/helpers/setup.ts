import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Every test file gets a state folder of its own (the store: events, runs, logs), so that
// no test reads another's deliveries, and none touches the real ~/.local/state/trig. Set in
// the environment, it reaches trig however a test starts it: directly, or through git's
// hooks and cron's entries. A test that needs a fresh store sets TRIG_STATE_DIR itself.
process.env.TRIG_STATE_DIR = mkdtempSync(path.join(tmpdir(), 'trig-test-state-'));
