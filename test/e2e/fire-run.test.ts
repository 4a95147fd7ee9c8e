import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CACHE_DIR, ROOT, TRIG, trig, type TrigResult } from '../helpers/trig.js';

// These tests run real child processes through the built bin/trig (npm run build first).
// Every fact about timing is measured by the scripts themselves (timestamps they write),
// never inferred from how long a test waited.

interface StepJson {
  stage: string;
  name: string | null;
  status: string;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
}

interface RunJson {
  id: string;
  status: string;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
  steps: StepJson[];
}

interface FireJson {
  definitions: { name: string; matched: boolean; stopped?: string; run?: RunJson }[];
  summary?: Record<string, unknown>;
}

function workdir(): string {
  return mkdtempSync(path.join(tmpdir(), 'trig-e2e-run-'));
}

function fire(defs: string, event: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): TrigResult {
  return trig(['fire', '--defs', `fixtures/runs/${defs}`, '--event', event, ...args], { env });
}

function fireJson(defs: string, event: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): { result: TrigResult; json: FireJson } {
  const result = fire(defs, event, ['--json', ...args], env);
  return { result, json: JSON.parse(result.stdout) as FireJson };
}

function runOf(json: FireJson, name: string): RunJson {
  const run = json.definitions.find((d) => d.name === name)?.run;
  if (!run) throw new Error(`no run for ${name}`);
  return run;
}

function read(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

/**
 * Whether a process still lives. An orphan that init has not reaped (some containers' init
 * never does) is a zombie: dead, holding only its pid, so it counts as gone.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    if (existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForFile(file: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await delay(20);
  }
}

describe('trig fire runs script steps', () => {
  it('gives each step the caller env, then definition, stage and step env, and the TRIG_* variables, in --workdir', () => {
    const dir = workdir();
    const { result, json } = fireJson('env.yaml', 'build_failed', ['--payload', 'fixtures/payloads/build_failed.json', '--workdir', dir], {
      CALLER_VAR: 'from-caller',
    });
    expect(result.code).toBe(0);
    const run = runOf(json, 'env-echo');
    expect(run.status).toBe('succeeded');
    expect(run.exitCode).toBe(0);
    expect(run.steps.map((s) => [s.stage, s.name, s.status, s.exitCode])).toEqual([
      ['show', 'print', 'succeeded', 0],
      ['show', 'second', 'succeeded', 0],
    ]);
    // With --json the runs' output goes to stderr, prefixed [definition/step].
    expect(result.stderr).toContain('[env-echo/print] level=step definition=d stage=s step=t caller=from-caller\n');
    expect(result.stderr).toContain(`[env-echo/print] event=build_failed name=env-echo run=${run.id}\n`);
    expect(result.stderr).toContain('[env-echo/print] repo=my-service\n');
    expect(read(dir, 'run-id-second.txt').trim()).toBe(run.id);
    expect(JSON.parse(read(dir, 'payload-copy.json'))).toEqual(
      JSON.parse(readFileSync(path.join(ROOT, 'fixtures/payloads/build_failed.json'), 'utf8')),
    );
    // The payload file lives as long as the run.
    expect(existsSync(read(dir, 'payload-path.txt').trim())).toBe(false);
    expect(read(dir, 'cwd.txt').trim()).toBe(dir);
  });

  it('gives every run its own TRIG_RUN_ID', () => {
    const first = fireJson('env.yaml', 'build_failed', ['--workdir', workdir()]).json;
    const second = fireJson('env.yaml', 'build_failed', ['--workdir', workdir()]).json;
    expect(runOf(first, 'env-echo').id).not.toBe(runOf(second, 'env-echo').id);
  });

  it('streams prefixed lines in text mode and ends with a summary line', () => {
    const dir = workdir();
    const result = fire('env.yaml', 'build_failed', ['--payload', 'fixtures/payloads/build_failed.json', '--workdir', dir]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('fixtures/runs/env.yaml: env-echo: matched build_failed');
    expect(lines).toContain('[env-echo/print] repo=my-service');
    expect(lines.at(-2)).toMatch(/^\[env-echo\] succeeded in \d/);
    expect(lines.at(-1)).toMatch(/^1 matched, 1 succeeded, 0 failed in \d+(\.\d)?m?s$/);
  });

  it('fails a run at its first failing step: later steps and stages do not run, exit code 1', () => {
    const dir = workdir();
    const { result, json } = fireJson('failing.yaml', 'test_failed', ['--workdir', dir]);
    expect(result.code).toBe(1);
    const run = runOf(json, 'failing');
    expect(run).toMatchObject({ status: 'failed', exitCode: 3, reason: 'step breaks: exited with code 3' });
    expect(run.steps.map((s) => [s.stage, s.name, s.status, s.exitCode, s.reason])).toEqual([
      ['first', 'ok', 'succeeded', 0, undefined],
      ['first', 'breaks', 'failed', 3, 'exited with code 3'],
      ['first', 'after', 'skipped', null, 'not run: an earlier step failed'],
      ['second', null, 'skipped', null, 'not run: an earlier stage failed'],
    ]);
    expect(existsSync(path.join(dir, 'before.txt'))).toBe(true);
    expect(existsSync(path.join(dir, 'after-step.txt'))).toBe(false);
    expect(existsSync(path.join(dir, 'second-stage.txt'))).toBe(false);
    expect(json.summary).toMatchObject({ matched: 2, succeeded: 1, failed: 1, timedOut: 0 });
  });

  it('goes on past a failure that on-failure ignores, and says so', () => {
    const dir = workdir();
    const { json } = fireJson('failing.yaml', 'test_failed', ['--workdir', dir]);
    const run = runOf(json, 'ignoring');
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]).toMatchObject({
      name: 'flaky',
      status: 'failed',
      exitCode: 4,
      reason: 'exited with code 4; ignored (on-failure action: ignore)',
    });
    expect(run.steps[1]).toMatchObject({ name: 'then', status: 'succeeded' });
    expect(existsSync(path.join(dir, 'ignored-then.txt'))).toBe(true);
  });

  it('honours if: on stages and steps, and fails a step whose condition it cannot evaluate', () => {
    const dir = workdir();
    const payload = path.join(dir, 'deploy.json');
    writeFileSync(payload, JSON.stringify({ environment: 'staging' }));
    const { result, json } = fireJson('conditions.yaml', 'deploy', ['--payload', payload, '--workdir', dir]);
    expect(result.code).toBe(1);
    const run = runOf(json, 'conditions');
    expect(run.steps.map((s) => [s.stage, s.name, s.status])).toEqual([
      ['prod-only', null, 'skipped'],
      ['always', 'when-fast', 'succeeded'],
      ['always', 'when-slow', 'skipped'],
      ['always', 'unclear', 'failed'],
      ['always', 'not-reached', 'skipped'],
    ]);
    expect(run.steps[0]!.reason).toBe('if: false (<+trigger.environment> == "production")');
    expect(run.steps[3]!.reason).toMatch(/^if: .*pipeline/);
    expect(readdirSync(dir).sort()).toEqual(['deploy.json', 'fast.txt']);
  });

  it('runs the stage whose condition holds', () => {
    const dir = workdir();
    const { json } = fireJson('conditions.yaml', 'deploy', [
      '--payload',
      'fixtures/payloads/deploy.json',
      '--workdir',
      dir,
      '--input',
      'mode=slow',
    ]);
    const run = runOf(json, 'conditions');
    expect(run.steps.slice(0, 3).map((s) => [s.name, s.status])).toEqual([
      ['step-1', 'succeeded'],
      ['when-fast', 'skipped'],
      ['when-slow', 'succeeded'],
    ]);
    expect(existsSync(path.join(dir, 'prod-stage.txt'))).toBe(true);
    expect(existsSync(path.join(dir, 'slow.txt'))).toBe(true);
  });

  it('runs parallel steps at the same time and group steps in order', () => {
    const dir = workdir();
    const { result, json } = fireJson('parallel.yaml', 'post_deploy', ['--workdir', dir]);
    expect(result.code).toBe(0);
    expect(runOf(json, 'blocks').steps.map((s) => s.name)).toEqual(['both/left', 'both/right', 'ordered/one', 'ordered/two']);
    const t = (file: string) => BigInt(read(dir, file).trim());
    // Each began before the other ended: they overlapped.
    expect(t('left.start') < t('right.end') && t('right.start') < t('left.end')).toBe(true);
    expect(t('one.t') > t('left.end') && t('one.t') > t('right.end')).toBe(true);
    expect(t('two.t') > t('one.t')).toBe(true);
  });

  it('fails a matched definition that cannot start for a missing required input (exit 1, reported as not run)', () => {
    const result = fire('required.yaml', 'flag_stale', ['--workdir', workdir()]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('needs-input: matched flag_stale, not run: input "target" is required');
    expect(result.stdout).toMatch(/1 matched, 0 succeeded, 0 failed, 1 not run in /);
  });
});

describe('trig fire output modes', () => {
  it('prints nothing and exits 0 when nothing matches', () => {
    const result = fire('env.yaml', 'deploy', ['--workdir', workdir()]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('prints nothing with --quiet when every run succeeds', () => {
    const result = fire('env.yaml', 'build_failed', ['--quiet', '--workdir', workdir()]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('prints only the failures with --quiet: the failing step with its output, the failed run, the summary', () => {
    const result = fire('failing.yaml', 'test_failed', ['--quiet', '--workdir', workdir()]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      '[failing/breaks] about to fail',
      '[failing/breaks] failed: exited with code 3',
      expect.stringMatching(/^\[failing\] failed in \S+ \(step breaks: exited with code 3\)$/),
      expect.stringMatching(/^2 matched, 1 succeeded, 1 failed in /),
    ]);
  });
});

describe('trig fire --concurrency', () => {
  function maxOverlap(dir: string): number {
    const events: [bigint, number][] = [];
    for (const file of readdirSync(dir).filter((f) => f.startsWith('times-'))) {
      const [start, end] = read(dir, file)
        .trim()
        .split('\n')
        .map((line) => BigInt(line.split(' ')[1]!));
      events.push([start!, 1], [end!, -1]);
    }
    expect(events).toHaveLength(8);
    // Ends sort before starts at the same instant: touching is not overlapping.
    events.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    let running = 0;
    let most = 0;
    for (const [, delta] of events) most = Math.max(most, (running += delta));
    return most;
  }

  it.each([1, 2, 4])('runs 4 matched definitions at most %i at once', (n) => {
    const dir = workdir();
    const result = fire('concurrency.yaml', 'budget_exceeded', ['--concurrency', String(n), '--workdir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/4 matched, 4 succeeded, 0 failed in /);
    expect(maxOverlap(dir)).toBe(n);
  });

  it.each(['0', '-1', '1.5', 'many', ''])('rejects --concurrency %j as a usage error', (value) => {
    const result = fire('env.yaml', 'build_failed', ['--concurrency', value, '--workdir', workdir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^trig: --concurrency .*expected a positive whole number\n$/);
    expect(result.stdout).toBe('');
  });
});

describe('trig fire time limits', () => {
  it('stops a step at its own timeout, with whatever it left running, and reports the run timed out', () => {
    const dir = workdir();
    const { result, json } = fireJson('timeout.yaml', 'slo_breach', ['--workdir', dir]);
    expect(result.code).toBe(1);
    const run = runOf(json, 'slow-step');
    expect(run.status).toBe('timed_out');
    expect(run.steps[0]).toMatchObject({ name: 'sleeper', status: 'timed_out', reason: "timed out after 1.0s (the step's timeout)" });
    expect(run.steps[0]!.durationMs).toBeGreaterThanOrEqual(1000);
    expect(run.steps[1]).toMatchObject({ name: 'after', status: 'skipped' });
    expect(alive(Number(read(dir, 'background.pid')))).toBe(false);
    expect(existsSync(path.join(dir, 'after-timeout.txt'))).toBe(false);
  });

  it('bounds each run with --timeout, killing a process that ignores SIGTERM after the grace period', () => {
    const dir = workdir();
    const { result, json } = fireJson('long.yaml', 'rollback', ['--timeout', '1s', '--workdir', dir]);
    expect(result.code).toBe(1);
    const run = runOf(json, 'long-run');
    expect(run).toMatchObject({ status: 'timed_out', reason: 'the run timed out after 1.0s' });
    expect(run.steps[0]).toMatchObject({ status: 'timed_out', reason: 'the run timed out after 1.0s' });
    // SIGTERM was ignored, so only the SIGKILL after the 5 s grace period ended the step.
    expect(run.steps[0]!.durationMs).toBeGreaterThanOrEqual(6000);
    expect(alive(Number(read(dir, 'grandchild.pid')))).toBe(false);
    expect(alive(Number(read(dir, 'leader.pid')))).toBe(false);
    expect(json.summary).toMatchObject({ matched: 1, timedOut: 1 });
  });

  it.each(['10x', '0s', 'soon', '1h-', ''])('rejects --timeout %j as a usage error', (value) => {
    const result = fire('env.yaml', 'build_failed', ['--timeout', value, '--workdir', workdir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^trig: --timeout .*expected a duration/);
  });

  it('rejects a --workdir that does not exist', () => {
    const result = fire('env.yaml', 'build_failed', ['--workdir', path.join(workdir(), 'missing')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--workdir .*no such directory/);
  });
});

describe('trig fire under SIGINT and SIGTERM', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('on %s stops every child process tree, leaves no process behind, and exits %i', async (signal, code) => {
    const dir = workdir();
    const child = spawn(process.execPath, [TRIG, 'fire', '--defs', 'fixtures/runs/long.yaml', '--event', 'rollback', '--workdir', dir], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    try {
      await waitForFile(path.join(dir, 'grandchild.pid'));
      const grandchild = Number(read(dir, 'grandchild.pid'));
      const leader = Number(read(dir, 'leader.pid'));
      expect(alive(grandchild)).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(alive(grandchild)).toBe(false);
      expect(alive(leader)).toBe(false);
      expect(stdout).toContain(`[long-run/stubborn] failed: stopped: trig received ${signal}`);
      expect(stdout).toMatch(new RegExp(`1 matched, 0 succeeded, 1 failed in \\S+ \\(stopped by ${signal}\\)\\n$`));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('trig fire output to a reader that falls behind', () => {
  it('holds a step back while its own stdout is not read: memory stays bounded and every line arrives', async () => {
    const dir = workdir();
    // V8 lets garbage pile up while it has room (Node 24 let a 100 MB flood reach 160 MB, a
    // 400 MB one 260 MB): with its heap capped, a trig that took in what its reader has not
    // read would die, and one that holds steps back finishes in a small resident size.
    const heap = ['--max-old-space-size=64', '--max-semi-space-size=2'];
    const child = spawn(
      process.execPath,
      [...heap, TRIG, 'fire', '--defs', 'fixtures/runs/flood.yaml', '--event', 'rollback', '--workdir', dir],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: CACHE_DIR },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // VmHWM is the peak resident size so far; the last reading before trig exits is its peak.
    let peakKiB = 0;
    const sampler = setInterval(() => {
      try {
        peakKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
      } catch {
        // trig has exited
      }
    }, 50);
    const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    try {
      // Nothing reads trig's stdout for 3 seconds (or until the step is done, as it was
      // before trig held steps back, having taken all 100 MB into its memory).
      const done = path.join(dir, 'flood.done');
      const pauseEnds = Date.now() + 3000;
      while (Date.now() < pauseEnds && !existsSync(done)) await delay(50);
      const doneWhilePaused = existsSync(done);

      const expected = `[flood/write] ${'a'.repeat(1000)}`;
      let floodLines = 0;
      const others: string[] = [];
      let rest = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          if (line === expected) floodLines++;
          else others.push(line);
        }
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

      expect(await exited).toBe(0);
      expect(doneWhilePaused).toBe(false);
      expect(floodLines).toBe(100_000);
      expect(rest).toBe('');
      expect(others).toEqual([
        'fixtures/runs/flood.yaml: flood: matched rollback',
        expect.stringMatching(/^\[flood\] succeeded in \S+$/),
        expect.stringMatching(/^1 matched, 1 succeeded, 0 failed in \S+$/),
      ]);
      expect(stderr).toBe('');
      // Node 20 peaked at 84 MB here, Node 24 at 102 MB; taking in the step's 100 MB took 400.
      expect(peakKiB).toBeGreaterThan(0);
      expect(peakKiB).toBeLessThan(150 * 1024);
    } finally {
      clearInterval(sampler);
      child.kill('SIGKILL');
    }
  });
});

describe('trig fire container steps', () => {
  // A stand-in for the engine CLI: records its argv and environment, one JSON file per call.
  function standIn(name: string): { bin: string; calls: () => { argv: string[]; env: Record<string, string> }[] } {
    const bin = mkdtempSync(path.join(tmpdir(), 'trig-engine-'));
    const log = path.join(bin, 'calls');
    mkdirSync(log);
    const script = [
      `#!${process.execPath}`,
      "const fs = require('node:fs');",
      `fs.writeFileSync(${JSON.stringify(log)} + '/' + process.hrtime.bigint() + '.json', JSON.stringify({ argv: process.argv.slice(2), env: process.env }));`,
      "console.log('engine ran ' + process.argv.slice(2).join(' '));",
    ].join('\n');
    writeFileSync(path.join(bin, name), script + '\n');
    chmodSync(path.join(bin, name), 0o755);
    const calls = () =>
      readdirSync(log)
        .sort((a, b) => (BigInt(a.split('.')[0]!) < BigInt(b.split('.')[0]!) ? -1 : 1))
        .map((f) => JSON.parse(readFileSync(path.join(log, f), 'utf8')) as { argv: string[]; env: Record<string, string> });
    return { bin, calls };
  }

  const TOKEN = 'tok-9f8e7d6c5b4a';

  it('runs the engine CLI with settings as PLUGIN_* variables and env by name; secret values never on its command line', () => {
    const engine = standIn('docker');
    const dir = workdir();
    const { result, json } = fireJson(
      'container.yaml',
      'vulnerability_found',
      ['--payload', 'fixtures/payloads/vulnerability_found.json', '--workdir', dir],
      {
        PATH: `${engine.bin}${path.delimiter}${process.env.PATH}`,
        TRIG_SECRET_TRIG_TEST_TOKEN: TOKEN,
      },
    );
    expect(result.code).toBe(0);
    expect(runOf(json, 'container-run').steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    const [plugin, scripted] = engine.calls();
    expect(plugin!.argv.slice(0, 6)).toEqual(['run', '--rm', '-v', `${dir}:/harness`, '-w', '/harness']);
    expect(plugin!.argv.at(-1)).toBe('example/scanner:1');
    for (const name of ['PLUGIN_SEVERITY', 'PLUGIN_TARGET_DIR', 'TOKEN', 'TRIG_EVENT', 'TRIG_DEFINITION', 'TRIG_RUN_ID']) {
      expect(plugin!.argv.join('\n')).toContain(`-e\n${name}\n`);
    }
    expect(plugin!.env.TRIG_EVENT).toBe('vulnerability_found');
    expect(plugin!.env).toMatchObject({
      PLUGIN_SEVERITY: 'critical',
      PLUGIN_TARGET_DIR: '/harness/src',
      TOKEN,
      TRIG_EVENT: 'vulnerability_found',
      TRIG_DEFINITION: 'container-run',
    });
    expect(plugin!.argv.join(' ')).not.toContain(TOKEN);
    expect(scripted!.argv.slice(-5)).toEqual(['--entrypoint', 'sh', 'alpine:3', '-c', 'echo "component ${TRIG_TRIGGER_COMPONENT}"']);
    expect(scripted!.env.TRIG_TRIGGER_COMPONENT).toBe('lodash@4.17.20');
    // The engine's output is streamed and masked like any other.
    expect(result.stderr).toContain('[container-run/plugin] engine ran run --rm');
    expect(result.stderr + result.stdout).not.toContain(TOKEN);
  });

  const ARGV_DEFS = `${ROOT}fixtures/runs/container-argv.yaml`;

  it.each([
    ['the payload', ['--payload-file', '{"image":"--privileged"}'], '--privileged'],
    ['an --input', ['--input', 'image=--volume=/:/host'], '--volume=/:/host'],
  ])('refuses an image from %s that begins with "-": one line, exit 1, nothing runs', (_from, given, image) => {
    const engine = standIn('docker');
    const dir = workdir();
    const args = given[0] === '--payload-file' ? ['--payload', path.join(dir, 'payload.json')] : given;
    if (given[0] === '--payload-file') writeFileSync(path.join(dir, 'payload.json'), given[1]!);
    const result = trig(['fire', '--defs', ARGV_DEFS, '--event', 'workflow_dispatch', '--workdir', dir, ...args], {
      env: { PATH: `${engine.bin}${path.delimiter}${process.env.PATH}` },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      `${ARGV_DEFS}: container-argv: matched workflow_dispatch, not run: step plugin: the container image ${JSON.stringify(image)} begins with "-" (docker would take it for an option)\n` +
        '1 matched, 0 succeeded, 0 failed, 1 not run in 0ms\n',
    );
    expect(engine.calls()).toEqual([]);
    expect(existsSync(path.join(dir, 'started.txt'))).toBe(false);
  });

  it('mounts a relative --workdir by its absolute path, not as a named volume', () => {
    const engine = standIn('docker');
    const cwd = workdir();
    mkdirSync(path.join(cwd, 'work'));
    const result = trig(['fire', '--defs', ARGV_DEFS, '--event', 'workflow_dispatch', '--workdir', 'work'], {
      cwd,
      env: { PATH: `${engine.bin}${path.delimiter}${process.env.PATH}` },
    });
    expect(result.code).toBe(0);
    const [call] = engine.calls();
    expect(call!.argv.slice(0, 6)).toEqual(['run', '--rm', '-v', `${path.join(cwd, 'work')}:/harness`, '-w', '/harness']);
    expect(call!.argv.at(-1)).toBe('example/tool:1');
    expect(existsSync(path.join(cwd, 'work', 'started.txt'))).toBe(true);
  });

  it('refuses a --workdir with ":" in its path for container steps, which -v cannot mount', () => {
    const engine = standIn('docker');
    const dir = path.join(workdir(), 'a:b');
    mkdirSync(dir);
    const result = trig(['fire', '--defs', ARGV_DEFS, '--event', 'workflow_dispatch', '--workdir', dir], {
      env: { PATH: `${engine.bin}${path.delimiter}${process.env.PATH}` },
    });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      `${ARGV_DEFS}: container-argv: matched workflow_dispatch, not run: step plugin: --workdir ${JSON.stringify(dir)} contains ":", which docker's -v cannot mount`,
    );
    expect(engine.calls()).toEqual([]);
  });

  it('uses the engine --container-runtime names', () => {
    const engine = standIn('podman');
    const result = fire('container.yaml', 'vulnerability_found', ['--container-runtime', 'podman', '--workdir', workdir()], {
      PATH: `${engine.bin}${path.delimiter}${process.env.PATH}`,
    });
    expect(result.code).toBe(0);
    expect(engine.calls()).toHaveLength(2);
  });

  it('fails a container step at once, in one line, when the engine is not on PATH', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'trig-empty-path-'));
    const { result, json } = fireJson('container.yaml', 'vulnerability_found', ['--workdir', workdir()], { PATH: empty });
    expect(result.code).toBe(1);
    const run = runOf(json, 'container-run');
    expect(run.steps[0]).toMatchObject({
      status: 'failed',
      exitCode: null,
      reason: 'docker: not found on PATH (container steps need a container engine; see --container-runtime)',
    });
    expect(result.stderr).toContain(
      '[container-run/plugin] failed: docker: not found on PATH (container steps need a container engine; see --container-runtime)\n',
    );
  });
});

describe('trig fire safety', () => {
  const bodies = ['"; touch pwned; echo "', '$(touch pwned)', '`touch pwned`'];

  function githubComment(body: string): string {
    return JSON.stringify({
      action: 'created',
      issue: { number: 7, pull_request: { url: 'https://api.github.com/repos/acme/app/pulls/7' } },
      comment: { body },
      repository: { full_name: 'acme/app', name: 'app', owner: { login: 'acme' } },
      sender: { login: 'mallory' },
    });
  }

  const cases = [
    ...bodies.map((body) => ['issue_comment', body, githubComment(body)] as const),
    ...bodies.map(
      (body) =>
        [
          'comment_mention',
          `@codereview ${body}`,
          JSON.stringify({ repo: 'acme/app', commentBody: `@codereview ${body}`, mentionedAgent: 'codereview' }),
        ] as const,
    ),
  ];

  it.each(cases)('%s with the body %j: the body is data, echoed exactly; no pwned file', (event, body, payload) => {
    const dir = workdir();
    writeFileSync(path.join(dir, 'payload.json'), payload);
    const result = fire('injection.yaml', event, ['--payload', path.join(dir, 'payload.json'), '--workdir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`comment-echo: matched ${event}`);
    for (const file of ['quoted-sh.txt', 'unquoted-sh.txt', 'quoted-bash.txt', 'through-env.txt'])
      expect(read(dir, file)).toBe(`${body}\n`);
    expect(result.stdout).toContain(`[comment-echo/printed] ${body}\n`);
    expect(existsSync(path.join(dir, 'pwned'))).toBe(false);
    expect(existsSync(path.join(ROOT, 'pwned'))).toBe(false);
  });

  const KEY = 'sk-test-5f4dcc3b5aa765d6';
  const CERT_LINES = ['-----BEGIN TEST CERT-----', 'MIIBszCCAVmgAwIBAgIUa1b2c3', 'ZXhhbXBsZSBzZWNyZXQgbGluZQ', '-----END TEST CERT-----'];
  const secretEnv = { TRIG_SECRET_TRIG_TEST_API_KEY: KEY, TRIG_SECRET_TRIG_TEST_CERT: CERT_LINES.join('\n') };
  const leaks = (text: string) => [KEY, ...CERT_LINES].filter((secret) => text.includes(secret));

  it('masks secret values, one-line and multi-line, in the streamed output and the text report', () => {
    const result = fire('secrets.yaml', 'scan_complete', ['--workdir', workdir()], secretEnv);
    expect(result.code).toBe(1);
    expect(leaks(result.stdout + result.stderr)).toEqual([]);
    expect(result.stdout).toContain('[secret-echo/echo] key is ***\n');
    expect(result.stdout).toContain('[secret-echo/echo] to stderr: ***\n');
    const afterCert = result.stdout.split('[secret-echo/echo] cert follows\n')[1]!.split('\n').slice(0, 4);
    expect(afterCert).toEqual(Array(4).fill('[secret-echo/echo] ***'));
    expect(result.stdout).toContain('[secret-echo/fails] failing with ***\n');
  });

  it('masks a secret that a long line carries across the 64 KiB split, in both streams', () => {
    const result = fire('secret-long-line.yaml', 'scan_complete', ['--workdir', workdir()], secretEnv);
    expect(result.code).toBe(0);
    expect(leaks(result.stdout + result.stderr)).toEqual([]);
    const printed = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('[long-line/print] '))
      .map((line) => line.slice('[long-line/print] '.length));
    // Every piece holds only the filler and the mask: not one character of the key.
    for (const piece of printed) expect(piece).toMatch(/^x*(\*\*\*)?y*$/);
    expect(printed.join('').match(/\*\*\*/g)).toHaveLength(5);
    expect(printed.join('').replace(/[^x]/g, '')).toHaveLength([1, 8, 16, 23].reduce((sum, offset) => sum + 65_536 - offset, 0) + 65_530);
    expect(printed.length).toBeGreaterThanOrEqual(10);
  });

  it('masks secret values in the JSON report and in the output streamed beside it', () => {
    const { result, json } = fireJson('secrets.yaml', 'scan_complete', ['--workdir', workdir()], secretEnv);
    expect(result.code).toBe(1);
    expect(leaks(result.stdout + result.stderr)).toEqual([]);
    expect(result.stdout).toContain('***');
    expect(result.stderr).toContain('[secret-echo/echo] key is ***\n');
    expect(runOf(json, 'secret-echo')).toMatchObject({ status: 'failed', exitCode: 2 });
  });

  it.each(['true', '1', 'e', '"', '\\', 'pa"ss\\word'])(
    'keeps the JSON report of a real run valid with the secret %j, masked in its values',
    (secret) => {
      // The container step fails (no engine on this PATH): the report then holds exit codes and reasons too.
      const { result, json } = fireJson('masking.yaml', 'workflow_dispatch', ['--workdir', workdir()], {
        TRIG_SECRET_TRIG_TEST_MASK: secret,
        PATH: path.dirname(process.execPath) + path.delimiter + '/usr/bin' + path.delimiter + '/bin',
      });
      expect(result.code).toBe(1);
      const definition = (
        json as unknown as { definitions: { plan: { inputs: unknown; stages: { steps: { env: Record<string, string> }[] }[] } }[] }
      ).definitions[0]!;
      expect(definition.plan.inputs).toEqual({ token: '***' });
      expect(definition.plan.stages[0]!.steps[0]!.env).toEqual({ TOK: '***', TRIG_INPUTS_TOKEN: '***' });
      // Every string value is masked, trig's own words too (a secret "e" masks "succeeded"); numbers are not.
      expect(runOf(json, 'masking').steps.map((s) => s.exitCode)).toEqual([0, null]);
      expect(json.summary).toMatchObject({ matched: 1, succeeded: 0, failed: 1 });
    },
  );

  it('warns on stderr, before the run, of each secret input without a value', () => {
    const dir = workdir();
    const result = fire('secrets.yaml', 'scan_complete', ['--workdir', dir, '--input', 'apikey=trig_test_api_key']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        'trig: warning: --input "apikey": no matched definition declares it; did you mean "apiKey"? (declared inputs: apiKey, cert)',
        'trig: warning: fixtures/runs/secrets.yaml: secret-echo: secret input "apiKey" has no value: set TRIG_SECRET_TRIG_TEST_API_KEY',
        'trig: warning: fixtures/runs/secrets.yaml: secret-echo: secret input "cert" has no value: set TRIG_SECRET_TRIG_TEST_CERT',
        '',
      ].join('\n'),
    );
    // The run goes on with empty values, as the warning says.
    expect(result.stdout).toContain('[secret-echo/echo] key is \n');
    // --quiet prints failures only, as with --dry-run, where the warnings belong to the plan.
    expect(fire('secrets.yaml', 'scan_complete', ['--workdir', dir, '--quiet']).stderr).toBe('');
  });

  it("warns on stderr of the plan's warnings, the definition's and its steps', named by their path", () => {
    const result = fire('plan-warnings.yaml', 'workflow_dispatch', ['--workdir', workdir()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      [
        'trig: warning: fixtures/runs/plan-warnings.yaml: plan-warnings: secret input "token" has no value: set TRIG_SECRET_TRIG_TEST_ABSENT',
        'trig: warning: fixtures/runs/plan-warnings.yaml: plan-warnings: step outer/inner: <+pipeline.name> is left as is: "pipeline" expressions are resolved by Harness while the pipeline runs, not by trig',
        '',
      ].join('\n'),
    );
  });

  it('gives a step only the TRIG_SECRET_* variables its definition declares', () => {
    const dir = workdir();
    const result = trig(
      [
        'fire',
        '--defs',
        'fixtures/runs/secret-env.yaml',
        'fixtures/runs/secret-env-other.yaml',
        '--event',
        'workflow_dispatch',
        '--workdir',
        dir,
      ],
      {
        env: {
          TRIG_SECRET_TRIG_TEST_DECLARED: 'declared-5d41402a',
          TRIG_SECRET_TRIG_TEST_OTHER: 'other-7d793037',
          TRIG_SECRET_TRIG_TEST_UNDECLARED: 'undeclared-9e107d9d',
        },
      },
    );
    expect(result.code).toBe(0);
    const env = read(dir, 'env.txt').split('\n');
    expect(env).toContain('TRIG_SECRET_TRIG_TEST_DECLARED=declared-5d41402a');
    expect(env).toContain('TOKEN=declared-5d41402a');
    expect(env.filter((line) => line.startsWith('TRIG_SECRET_'))).toEqual(['TRIG_SECRET_TRIG_TEST_DECLARED=declared-5d41402a']);
    expect(read(dir, 'env.txt')).not.toContain('undeclared-9e107d9d');
    expect(read(dir, 'env.txt')).not.toContain('other-7d793037');
    const other = read(dir, 'other-env.txt').split('\n');
    expect(other.filter((line) => line.startsWith('TRIG_SECRET_'))).toEqual(['TRIG_SECRET_TRIG_TEST_OTHER=other-7d793037']);
  });
});
