import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CACHE_DIR, ROOT, TRIG, trig } from '../helpers/trig.js';

// Concurrency groups across real `trig fire` processes sharing one store. Each run's step
// says what it does in files of the work folder (`order`, `started-<tag>`, `pid-<tag>`) and
// holds on until the test creates `release-<tag>`: every fact about order comes from those
// files and from each fire's --json output, never from how long anything took.

interface RunJson {
  id: string;
  status: string;
  exitCode: number | null;
  reason?: string;
}

interface Fired {
  code: number | null;
  stdout: string;
  stderr: string;
  json: { definitions: { name: string; run?: RunJson; plan?: { concurrency?: unknown } }[]; summary?: Record<string, number> };
}

const validateOutput = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(
  JSON.parse(readFileSync(path.join(ROOT, 'schemas/fire-output.schema.json'), 'utf8')),
);

/** A work folder, its own store, and a definition whose one step waits for its release file. */
function setup(concurrency: string): { dir: string; env: NodeJS.ProcessEnv; defs: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-e2e-group-'));
  const defs = path.join(dir, 'deploy.yaml');
  writeFileSync(
    defs,
    [
      'pipeline:',
      '  name: deploy',
      '  inputs:',
      '    tag:',
      '      type: string',
      '  on: push',
      ...concurrency.split('\n').map((line) => `  ${line}`),
      '  stages:',
      '    - name: s',
      '      steps:',
      '        - name: work',
      '          run:',
      '            shell: sh',
      '            env:',
      '              TAG: <+inputs.tag>',
      '            script: |',
      '              echo $$ > "pid-$TAG"',
      '              echo "start $TAG" >> order',
      '              touch "started-$TAG"',
      '              while [ ! -e "release-$TAG" ]; do sleep 0.05; done',
      '              echo "end $TAG" >> order',
      '',
    ].join('\n'),
  );
  for (const branch of ['main', 'dev']) writeFileSync(path.join(dir, `${branch}.json`), JSON.stringify({ branch }));
  return { dir, defs, env: { TRIG_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'trig-e2e-group-state-')) } };
}

/** Starts `trig fire --json` of the definition for a push to `branch`, tagged `tag`. */
function start(at: { dir: string; env: NodeJS.ProcessEnv; defs: string }, tag: string, branch = 'main') {
  const child = spawn(
    process.execPath,
    [
      TRIG,
      'fire',
      '--json',
      '--defs',
      at.defs,
      '--event',
      'push',
      '--payload',
      path.join(at.dir, `${branch}.json`),
      '--input',
      `tag=${tag}`,
    ],
    {
      cwd: at.dir,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TRIG_CACHE_DIR: CACHE_DIR, ...at.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Fired>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, json: JSON.parse(stdout || '{}') as Fired['json'] })),
  );
  let exited = false;
  void done.then(() => (exited = true));
  return { done, stderr: () => stderr, exited: () => exited, pid: child.pid! };
}

async function until(what: string, condition: () => boolean, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: never happened`);
    await delay(20);
  }
}

const waiting = 'waiting: another run of concurrency group';

function runOf(fired: Fired): RunJson {
  expect(validateOutput(fired.json), JSON.stringify(validateOutput.errors)).toBe(true);
  const run = fired.json.definitions[0]?.run;
  if (!run) throw new Error(`no run in ${fired.stdout}`);
  return run;
}

function read(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('concurrency groups across trig fire processes', () => {
  it('runs the first, lets the second wait until the third supersedes it (cancelled), then runs the third', async () => {
    const at = setup('concurrency:\n  group: deploy-<+trigger.branch>');
    const first = start(at, 'a');
    await until('the first run started', () => existsSync(path.join(at.dir, 'started-a')));
    const second = start(at, 'b');
    await until('the second run waits', () => second.stderr().includes(waiting));
    const third = start(at, 'c');
    await until('the third run waits', () => third.stderr().includes(waiting));

    const superseded = await second.done;
    // The second ended while the first still runs: it never started its step.
    expect(existsSync(path.join(at.dir, 'started-b'))).toBe(false);
    expect(first.exited()).toBe(false);
    writeFileSync(path.join(at.dir, 'release-a'), '');
    await until('the third run started', () => existsSync(path.join(at.dir, 'started-c')));
    writeFileSync(path.join(at.dir, 'release-c'), '');
    const [ran, last] = await Promise.all([first.done, third.done]);

    expect(read(at.dir, 'order')).toBe('start a\nend a\nstart c\nend c\n');
    expect(existsSync(path.join(at.dir, 'started-b'))).toBe(false);
    expect(runOf(ran)).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(runOf(last)).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(runOf(superseded)).toEqual({
      id: expect.any(String),
      status: 'cancelled',
      exitCode: null,
      durationMs: 0,
      reason: `superseded by run ${runOf(last).id}, newer in concurrency group "deploy-main"`,
      steps: [],
    });
    expect(superseded.json.summary).toMatchObject({ matched: 1, cancelled: 1, failed: 0 });
    // A run a newer one replaced is not a failure: every fire exits 0.
    expect([ran.code, superseded.code, last.code]).toEqual([0, 0, 0]);
    expect(superseded.stderr).toContain(
      `[deploy] cancelled (superseded by run ${runOf(last).id}, newer in concurrency group "deploy-main")\n`,
    );
  });

  it('with cancel-in-progress, cancels the running one (its step process stopped) and runs the newer one', async () => {
    const at = setup('concurrency:\n  group: deploy\n  cancel-in-progress: true');
    const first = start(at, 'a');
    await until('the first run started', () => existsSync(path.join(at.dir, 'started-a')));
    const pid = Number(read(at.dir, 'pid-a'));
    expect(alive(pid)).toBe(true);
    const second = start(at, 'b');
    const cancelled = await first.done;
    expect(alive(pid)).toBe(false);
    await until('the second run started', () => existsSync(path.join(at.dir, 'started-b')));
    writeFileSync(path.join(at.dir, 'release-b'), '');
    const ran = await second.done;

    expect(read(at.dir, 'order')).toBe('start a\nstart b\nend b\n');
    expect(runOf(ran)).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(runOf(cancelled)).toMatchObject({
      status: 'cancelled',
      reason: `cancelled by run ${runOf(ran).id}, newer in concurrency group "deploy" (cancel-in-progress)`,
    });
    expect([cancelled.code, ran.code]).toEqual([0, 0]);
  });

  it('does not wait for ever on a run whose trig died: the waiting trig marks it lost, stops its step and starts', async () => {
    const at = setup('concurrency: solo');
    const first = start(at, 'a');
    await until('the first run started', () => existsSync(path.join(at.dir, 'started-a')));
    const step = Number(read(at.dir, 'pid-a'));
    const second = start(at, 'b');
    await until('the second run waits', () => second.stderr().includes(waiting));
    process.kill(first.pid, 'SIGKILL');
    await first.done;
    // The orphaned step still holds on (nothing released it); the waiting trig must end it.
    await until('the second run started', () => existsSync(path.join(at.dir, 'started-b')));
    expect(alive(step)).toBe(false);
    writeFileSync(path.join(at.dir, 'release-b'), '');
    const ran = await second.done;
    expect(read(at.dir, 'order')).toBe('start a\nstart b\nend b\n');
    expect([runOf(ran).status, ran.code]).toEqual(['succeeded', 0]);
  });

  it('takes the short form `concurrency: <group>`: a second run waits for the first, then runs', async () => {
    const at = setup('concurrency: solo');
    const first = start(at, 'a');
    await until('the first run started', () => existsSync(path.join(at.dir, 'started-a')));
    const second = start(at, 'b');
    await until('the second run waits', () => second.stderr().includes(waiting));
    expect(second.stderr()).toContain('[deploy] waiting: another run of concurrency group "solo" is in progress\n');
    expect(existsSync(path.join(at.dir, 'started-b'))).toBe(false);
    writeFileSync(path.join(at.dir, 'release-a'), '');
    await until('the second run started', () => existsSync(path.join(at.dir, 'started-b')));
    writeFileSync(path.join(at.dir, 'release-b'), '');
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(read(at.dir, 'order')).toBe('start a\nend a\nstart b\nend b\n');
    expect([runOf(a).status, runOf(b).status, a.code, b.code]).toEqual(['succeeded', 'succeeded', 0, 0]);
  });

  it('resolves expressions in the group: runs for different branches do not block each other', async () => {
    const at = setup('concurrency: ci-<+trigger.branch>');
    const main = start(at, 'a', 'main');
    await until('the main run started', () => existsSync(path.join(at.dir, 'started-a')));
    const dev = start(at, 'b', 'dev');
    // The dev run starts and finishes while the main run still holds its own group.
    await until('the dev run started', () => existsSync(path.join(at.dir, 'started-b')));
    writeFileSync(path.join(at.dir, 'release-b'), '');
    const devRun = await dev.done;
    expect(main.exited()).toBe(false);
    expect(devRun.stderr).not.toContain(waiting);
    writeFileSync(path.join(at.dir, 'release-a'), '');
    const mainRun = await main.done;
    expect(read(at.dir, 'order')).toBe('start a\nstart b\nend b\nend a\n');
    expect([runOf(mainRun).status, runOf(devRun).status]).toEqual(['succeeded', 'succeeded']);
  });

  it('shows the resolved group in the --dry-run plan, as text and as JSON', () => {
    const at = setup('concurrency:\n  group: ci-<+trigger.branch>\n  cancel-in-progress: true');
    const args = [
      'fire',
      '--dry-run',
      '--defs',
      at.defs,
      '--event',
      'push',
      '--payload',
      path.join(at.dir, 'dev.json'),
      '--input',
      'tag=x',
    ];
    const text = trig(args, { env: at.env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `${at.defs}: deploy: matched push\n  concurrency group "ci-dev" (cancel-in-progress: a new run cancels the one running)\n  stage s\n`,
    );
    const json = trig([...args, '--json'], { env: at.env });
    const parsed = JSON.parse(json.stdout) as Fired['json'];
    expect(validateOutput(parsed), JSON.stringify(validateOutput.errors)).toBe(true);
    expect(parsed.definitions[0]!.plan!.concurrency).toEqual({ name: 'ci-dev', cancelInProgress: true });
  });
});
