import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { shellDefinition } from '../helpers/definition.js';
import { GIT_TEST_ENV } from '../helpers/git.js';
import { CACHE_DIR, TRIG, trig } from '../helpers/trig.js';

// trig watch on real git repositories in temporary folders. Each test waits for what it
// expects (a line, a file) with a generous bound, and pauses only to let a debounce pass;
// nothing asserts a duration. The runs' logs live outside the watched tree, so writing
// them is no change of the tree.

interface Watching {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const DEBOUNCE = '1s';
/** Longer than the debounce: changes apart by this much are separate batches. */
const PAUSE_MS = 2500;

/** A temporary folder with `tree/` (a git repository with a first commit), `logs/` and `state/`. */
function setup(files: Record<string, string> = {}): { base: string; tree: string; logs: string; state: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'trig-watch-'));
  const tree = path.join(base, 'tree');
  const logs = path.join(base, 'logs');
  const state = path.join(base, 'state');
  for (const dir of [tree, logs]) mkdirSync(dir);
  for (const [file, text] of Object.entries({ 'README.md': 'hello\n', ...files })) {
    mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
    writeFileSync(path.join(tree, file), text);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: tree, env: GIT_TEST_ENV, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
  return { base, tree, logs, state };
}

/** A definition whose step appends `{label, payload}` as one JSON line to `log`, after `before` (shell) if given. */
function definition(name: string, on: string, log: string, options: { label?: string; before?: string } = {}): string {
  const line = `{"label":${JSON.stringify(options.label ?? name)},"payload":'"$(cat "$TRIG_PAYLOAD")"'}`;
  return shellDefinition(name, on.split('\n'), [
    ...(options.before ? [options.before] : []),
    `printf '%s\\n' '${line}' >> ${JSON.stringify(log)}`,
  ]);
}

interface Logged {
  label: string;
  payload: { changedFiles: string[]; created: string[]; modified: string[]; deleted: string[]; changeTypes: string[]; root: string };
}

function logged(file: string): Logged[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Logged);
}

function watch(cwd: string, args: string[], state: string): Watching {
  const child = spawn(process.execPath, [TRIG, 'watch', '--debounce', DEBOUNCE, ...args], {
    cwd,
    env: { ...GIT_TEST_ENV, NO_COLOR: '1', TRIG_STATE_DIR: state, TRIG_CACHE_DIR: CACHE_DIR },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits until `ready()` holds; fails with `what` (and trig's output) after a generous bound. */
async function until(what: string, ready: () => boolean, watching?: Watching): Promise<void> {
  const giveUp = Date.now() + 30_000;
  while (!ready()) {
    if (Date.now() > giveUp) {
      throw new Error(`gave up waiting for ${what}\nstdout:\n${watching?.stdout() ?? ''}\nstderr:\n${watching?.stderr() ?? ''}`);
    }
    await delay(50);
  }
}

const started = (w: Watching) => until('trig watch to start', () => w.stderr().includes('; Ctrl-C stops\n'), w);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(w: Watching, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  w.child.kill(signal);
  return w.exited;
}

describe('trig watch', () => {
  it('makes one file_change event of 50 quick writes, once the debounce settles, with every changed path', async () => {
    const { tree, logs, state } = setup({ 'src/.keep': '' });
    const log = path.join(logs, 'runs.log');
    writeFileSync(path.join(tree, '.harness.yaml'), definition('on-change', '- file_change', log));
    const w = watch(tree, ['--defs', '.harness.yaml'], state);
    await started(w);
    for (let i = 0; i < 50; i++) writeFileSync(path.join(tree, 'src', `f${String(i).padStart(2, '0')}.txt`), `${i}\n`);
    await until('the first run', () => logged(log).length === 1, w);
    // A later change is a second event of its own: nothing of the 50 came after the first.
    writeFileSync(path.join(tree, 'README.md'), 'changed\n');
    await until('the second run', () => logged(log).length === 2, w);
    await until('its summary', () => w.stdout().split('1 matched, 1 succeeded').length === 3, w);
    expect(await stop(w)).toBe(130);

    const [first, second] = logged(log);
    const fifty = Array.from({ length: 50 }, (_, i) => `src/f${String(i).padStart(2, '0')}.txt`);
    expect(first!.payload).toEqual({
      changedFiles: fifty,
      created: fifty,
      modified: [],
      deleted: [],
      changeTypes: ['created'],
      root: tree,
    });
    expect(second!.payload).toMatchObject({ changedFiles: ['README.md'], modified: ['README.md'], changeTypes: ['modified'] });
    expect(logged(log)).toHaveLength(2);
    expect(w.stderr()).toContain('trig: file_change: 50 changed files (50 created)\n');
    expect(w.stdout()).toContain('.harness.yaml: on-change: matched file_change\n');
  });

  it('makes no event of ignored paths: .git, node_modules and what .gitignore lists (folders there at the start or made later)', async () => {
    const { tree, logs, state } = setup({ '.gitignore': 'build/\n*.log\ncache/\n', 'build/old.js': '' });
    const log = path.join(logs, 'runs.log');
    writeFileSync(path.join(tree, 'watch.yaml'), definition('on-change', '- file_change', log));
    const w = watch(tree, ['--defs', 'watch.yaml'], state);
    await started(w);
    expect(w.stderr()).toContain(', .gitignore applied by git); Ctrl-C stops');
    writeFileSync(path.join(tree, 'build/out.js'), 'x');
    writeFileSync(path.join(tree, 'debug.log'), 'x');
    mkdirSync(path.join(tree, 'cache/deep'), { recursive: true });
    writeFileSync(path.join(tree, 'cache/deep/entry'), 'x');
    mkdirSync(path.join(tree, 'node_modules/pkg'), { recursive: true });
    writeFileSync(path.join(tree, 'node_modules/pkg/index.js'), 'x');
    writeFileSync(path.join(tree, '.git/scratch'), 'x');
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'second'], { cwd: tree, env: GIT_TEST_ENV });
    // Had any of those fired, its event would come before the one of this change.
    await delay(PAUSE_MS);
    writeFileSync(path.join(tree, 'kept.txt'), 'x');
    await until('the run for kept.txt', () => logged(log).length === 1, w);
    expect(await stop(w)).toBe(130);
    expect(logged(log).map((l) => l.payload.changedFiles)).toEqual([['kept.txt']]);
    expect(w.stderr()).not.toContain('warning');
  });

  it('reports a deleted file, and `types: [deleted]` runs only for a batch that deletes', async () => {
    const { tree, logs, state } = setup({ 'docs/old.md': 'old\n' });
    const deletions = path.join(logs, 'deleted.log');
    const all = path.join(logs, 'all.log');
    const defs = path.join(tree, '.harness');
    mkdirSync(defs);
    writeFileSync(path.join(defs, 'deleted.yaml'), definition('on-delete', '- file_change:\n    types: [deleted]', deletions));
    writeFileSync(path.join(defs, 'all.yaml'), definition('on-any', '- file_change', all));
    const w = watch(tree, [], state);
    await started(w);
    writeFileSync(path.join(tree, 'new.md'), 'new\n');
    await until('the run for new.md', () => logged(all).length === 1, w);
    await delay(PAUSE_MS);
    rmSync(path.join(tree, 'docs/old.md'));
    await until('the runs for the deletion', () => logged(deletions).length === 1 && logged(all).length === 2, w);
    expect(await stop(w)).toBe(130);
    expect(logged(deletions).map((l) => l.payload)).toEqual([
      { changedFiles: ['docs/old.md'], created: [], modified: [], deleted: ['docs/old.md'], changeTypes: ['deleted'], root: tree },
    ]);
    expect(logged(all).map((l) => l.payload.changeTypes)).toEqual([['created'], ['deleted']]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('stops on %s with its run: the step process does not survive, the exit code is %i', async (signal, code) => {
    const { tree, logs, state } = setup();
    const pidFile = path.join(logs, 'step.pid');
    writeFileSync(
      path.join(tree, 'watch.yaml'),
      definition('long', '- file_change', path.join(logs, 'never.log'), {
        before: `echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; sleep 300`,
      }),
    );
    const w = watch(tree, ['--defs', 'watch.yaml'], state);
    await started(w);
    writeFileSync(path.join(tree, 'go.txt'), 'x');
    await until('the step to start', () => existsSync(pidFile), w);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    expect(await stop(w, signal)).toBe(code);
    expect(alive(pid)).toBe(false);
    expect(w.stdout()).toContain(`[long/log] failed: stopped: trig received ${signal}`);
    expect(existsSync(path.join(logs, 'never.log'))).toBe(false);
  });

  it('stops at once when idle', async () => {
    const { tree, state } = setup();
    writeFileSync(path.join(tree, 'watch.yaml'), definition('idle', '- file_change', '/dev/null'));
    const w = watch(tree, ['--defs', 'watch.yaml'], state);
    await started(w);
    expect(await stop(w, 'SIGTERM')).toBe(143);
    expect(w.stdout()).toBe('');
  });

  it("reloads an edited definition; a broken edit is reported and the last good version serves; definition files' own changes fire nothing", async () => {
    const { tree, logs, state } = setup();
    const log = path.join(logs, 'runs.log');
    const file = path.join(tree, '.harness', 'watch.yaml');
    mkdirSync(path.dirname(file));
    writeFileSync(file, definition('edited', '- file_change', log, { label: 'v1' }));
    const w = watch(tree, [], state);
    await started(w);
    const change = async (name: string, runs: number) => {
      await delay(PAUSE_MS);
      writeFileSync(path.join(tree, name), 'x');
      await until(`run ${runs}`, () => logged(log).length === runs, w);
    };
    await change('a.txt', 1);

    writeFileSync(file, definition('edited', '- file_change', log, { label: 'v2' }));
    await until('the reload', () => w.stderr().includes('definitions reloaded'), w);
    await change('b.txt', 2);

    writeFileSync(file, 'version: 1\npipeline:\n  name: edited\n  on: [file_change\n');
    await until('the broken edit reported', () => w.stderr().includes('not reloaded: its last good version keeps serving'), w);
    await change('c.txt', 3);

    expect(await stop(w)).toBe(130);
    expect(logged(log).map((l) => [l.label, l.payload.changedFiles])).toEqual([
      ['v1', ['a.txt']],
      ['v2', ['b.txt']],
      ['v2', ['c.txt']],
    ]);
    expect(w.stderr()).toContain(`trig: .harness/watch.yaml: not reloaded: its last good version keeps serving\n`);
    expect(w.stderr()).toMatch(/\n\.harness\/watch\.yaml:5:1: .* \[syntax\]\n/);
  });

  /** The runs trig recorded, oldest first: [changed files of their event, status, reason]. */
  async function recorded(state: string): Promise<[string[], string, string | null][]> {
    const store = openSqliteStore(state);
    try {
      const runs = (await store.listRuns({})).reverse();
      const events = new Map((await store.listEvents({})).map((e) => [e.id, e.payload as Logged['payload']]));
      return runs.map((r) => [events.get(r.eventId)!.changedFiles, r.status, r.reason]);
    } finally {
      store.close();
    }
  }

  it('runs a definition one batch at a time: while a run goes on, the newest batch waits and supersedes an older waiting one', async () => {
    const { tree, logs, state } = setup();
    const log = path.join(logs, 'runs.log');
    const release = path.join(logs, 'release');
    writeFileSync(
      path.join(tree, 'watch.yaml'),
      definition('slow', '- file_change', log, { before: `while [ ! -e ${release} ]; do sleep 0.05; done` }),
    );
    const w = watch(tree, ['--defs', 'watch.yaml'], state);
    await started(w);
    const waitingNotes = () => w.stdout().split('waiting: another run of concurrency group').length - 1;
    writeFileSync(path.join(tree, 'a.txt'), 'x');
    await until('the first batch', () => w.stderr().includes('file_change: 1 changed file (1 created)'), w);
    writeFileSync(path.join(tree, 'b.txt'), 'x');
    await until('the second batch waiting', () => waitingNotes() === 1, w);
    writeFileSync(path.join(tree, 'c.txt'), 'x');
    await until('the third batch waiting', () => waitingNotes() === 2, w);
    writeFileSync(release, '');
    await until('two runs', () => logged(log).length === 2 && w.stdout().split('1 matched, 1 succeeded').length === 3, w);
    expect(await stop(w)).toBe(130);
    expect(logged(log).map((l) => l.payload.changedFiles)).toEqual([['a.txt'], ['c.txt']]);
    const runs = await recorded(state);
    expect(runs.map(([files, status]) => [files, status])).toEqual([
      [['a.txt'], 'succeeded'],
      [['b.txt'], 'cancelled'],
      [['c.txt'], 'succeeded'],
    ]);
    expect(runs[1]![2]).toMatch(/^superseded by run [0-9a-f]{12}, newer in concurrency group "watch .*watch\.yaml: slow"$/);
  });

  it("follows a definition's own concurrency group: with cancel-in-progress a new batch stops the run of the previous one", async () => {
    const { tree, logs, state } = setup();
    const log = path.join(logs, 'runs.log');
    const text = definition('latest', '- file_change', log, { before: `[ -e ${path.join(tree, 'b.txt')} ] || sleep 60` }).replace(
      '  on:\n',
      '  concurrency:\n    group: docs\n    cancel-in-progress: true\n  on:\n',
    );
    writeFileSync(path.join(tree, 'watch.yaml'), text);
    const w = watch(tree, ['--defs', 'watch.yaml'], state);
    await started(w);
    writeFileSync(path.join(tree, 'a.txt'), 'x');
    await until('the first batch', () => w.stderr().includes('file_change: 1 changed file (1 created)'), w);
    await delay(PAUSE_MS);
    writeFileSync(path.join(tree, 'b.txt'), 'x');
    await until('the second run', () => logged(log).length === 1 && w.stdout().includes('1 matched, 1 succeeded'), w);
    expect(await stop(w)).toBe(130);
    expect(logged(log).map((l) => l.payload.changedFiles)).toEqual([['b.txt']]);
    const runs = await recorded(state);
    expect(runs.map(([files, status]) => [files, status])).toEqual([
      [['a.txt'], 'cancelled'],
      [['b.txt'], 'succeeded'],
    ]);
    expect(runs[0]![2]).toMatch(/^cancelled by run [0-9a-f]{12}, newer in concurrency group "docs" \(cancel-in-progress\)$/);
  });
});

describe('trig watch usage errors', () => {
  it('rejects a directory that does not exist, and a bad --debounce, with one line and exit 2', () => {
    const missing = trig(['watch', 'no/such/dir']);
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: 'trig: no/such/dir: no such directory to watch\n' });
    const debounce = trig(['watch', '--debounce', 'soon', '.']);
    expect(debounce.code).toBe(2);
    expect(debounce.stderr).toBe('trig: --debounce "soon": expected a duration such as 200ms, 2s or 1m, at most 1h\n');
  });

  it('rejects definition paths that name nothing before watching', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-watch-'));
    const result = trig(['watch', '.'], { cwd: dir, env: { TRIG_STATE_DIR: path.join(dir, 'state') } });
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^trig: no \.harness\/ folder here; .*\n$/);
  });
});
