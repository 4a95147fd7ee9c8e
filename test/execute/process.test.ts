import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineSplitter } from '../../src/execute/output.js';
import { findProgram } from '../../src/shared/programs.js';
import { runChild, stopRunProcesses, type ChildOptions, type ChunkSink } from '../../src/execute/process.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** Alive and not a zombie (an orphan that init has not reaped is dead all the same). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

/** Output sinks that take the child's output line by line. */
function byLine(onLine: (line: string, stream: string) => void): (stream: string) => ChunkSink {
  return (stream) => {
    const splitter = lineSplitter((line) => onLine(line, stream));
    return { write: (chunk) => void splitter.write(chunk), end: () => splitter.end() };
  };
}

async function sh(script: string, options: Partial<ChildOptions> & { onLine?: (line: string, stream: string) => void } = {}) {
  const lines: [string, string][] = [];
  const { onLine, ...rest } = options;
  const result = await runChild({
    command: ['sh', '-c', script],
    env: ENV,
    cwd: tmpdir(),
    output: byLine((line, stream) => {
      lines.push([stream, line]);
      onLine?.(line, stream);
    }),
    ...rest,
  });
  return { result, lines };
}

describe('runChild', () => {
  it('passes on output line by line, from both streams, including a last line without a newline', async () => {
    const { result, lines } = await sh(`printf 'one\\ntw'; sleep 0.05; printf 'o\\r\\nthree'; printf 'err\\n' >&2`);
    expect(result).toEqual({ exitCode: 0 });
    expect(lines.filter(([s]) => s === 'stdout').map(([, l]) => l)).toEqual(['one', 'two', 'three']);
    expect(lines.filter(([s]) => s === 'stderr').map(([, l]) => l)).toEqual(['err']);
  });

  it('gives the child exactly the environment it is handed', async () => {
    const { lines } = await sh('echo "${HOME-unset} $ONLY"', { env: { ...ENV, ONLY: 'this' } });
    expect(lines).toEqual([['stdout', 'unset this']]);
  });

  it('reports the exit code, or the signal that killed the child', async () => {
    expect((await sh('exit 7')).result).toEqual({ exitCode: 7 });
    expect((await sh('kill -KILL $$')).result).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });

  it('starts the child as the leader of its own process group', async () => {
    const { lines } = await sh('ps -o pgid= -p $$; echo $$');
    const [pgid, pid] = lines.map(([, l]) => Number(l.trim()));
    expect(pgid).toBe(pid);
    expect(pgid).not.toBe(Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2]));
  });

  it('stops what the step left running in the background when it exits, instead of waiting for it', async () => {
    const { result, lines } = await sh('sleep 300 & echo $!');
    expect(result.exitCode).toBe(0);
    expect(alive(Number(lines[0]![1]))).toBe(false);
  });

  it("ends the whole tree at the step's timeout: SIGTERM, then SIGKILL for what ignores it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-proc-'));
    const started = Date.now();
    const { result } = await sh(`sh -c 'trap "" TERM; echo $$ > ${dir}/pid; exec sleep 300' & wait`, { timeoutMs: 300, graceMs: 300 });
    expect(result.stopped).toEqual({ kind: 'timeout', after: 300, own: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(alive(Number(readFileSync(`${dir}/pid`, 'utf8')))).toBe(false);
  });

  it('ends the tree when the run is stopped, and says why', async () => {
    const stop = new AbortController();
    const { result } = await sh('echo ready; sleep 300', {
      stop: stop.signal,
      onLine: () => stop.abort({ kind: 'signal', signal: 'SIGINT' }),
    });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM', stopped: { kind: 'signal', signal: 'SIGINT' } });
  });

  it('does not start a child once the run is stopped', async () => {
    const stop = new AbortController();
    stop.abort({ kind: 'timeout', after: 5 });
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-proc-'));
    const { result } = await sh(`touch ${dir}/started`, { stop: stop.signal });
    expect(result).toEqual({ exitCode: null, stopped: { kind: 'timeout', after: 5 } });
    expect(() => readFileSync(`${dir}/started`)).toThrow();
  });

  it('tells the tracker about the process group while it exists', async () => {
    const seen: string[] = [];
    const { lines } = await sh('echo $$', { track: { add: (g) => seen.push(`+${g}`), delete: (g) => seen.push(`-${g}`) } });
    const pid = lines[0]![1];
    expect(seen).toEqual([`+${pid}`, `-${pid}`]);
  });

  /** Sinks that count bytes, and are behind on stdout until `behind` settles. */
  function heldBack(behind: Promise<void>) {
    const received = { stdout: 0, stderr: 0, ended: 0 };
    let caughtUp = false;
    void behind.then(() => (caughtUp = true));
    const output = (stream: 'stdout' | 'stderr'): ChunkSink => ({
      write: (chunk) => {
        received[stream] += chunk.length;
        return stream === 'stdout' && !caughtUp ? behind : undefined;
      },
      end: () => void received.ended++,
    });
    return { received, output };
  }

  it('does not read a pipe while its output is behind: the child waits in write until it catches up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-proc-'));
    let release!: () => void;
    const { received, output } = heldBack(new Promise((resolve) => (release = resolve)));
    const running = runChild({
      command: ['sh', '-c', `echo go; head -c 2000000 /dev/zero; echo > ${dir}/done`],
      env: ENV,
      cwd: tmpdir(),
      output,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(`${dir}/done`)).toBe(false);
    expect(received.stdout).toBeLessThan(1_000_000);
    release();
    expect(await running).toEqual({ exitCode: 0 });
    expect(existsSync(`${dir}/done`)).toBe(true);
    expect(received).toEqual({ stdout: 'go\n'.length + 2_000_000, stderr: 0, ended: 2 });
  });

  it('passes on all a child wrote before it ended, however long its output stays behind', async () => {
    // The child ends with output still in the pipe (more than trig takes in one read), while
    // trig's output stays behind for longer than the time a finished group's pipes get to drain.
    const behind = new Promise<void>((resolve) => setTimeout(resolve, 3000));
    const { received, output } = heldBack(behind);
    const result = await runChild({
      command: ['sh', '-c', 'echo go; sleep 0.2; head -c 120000 /dev/zero'],
      env: ENV,
      cwd: tmpdir(),
      output,
    });
    expect(result).toEqual({ exitCode: 0 });
    expect(received).toEqual({ stdout: 'go\n'.length + 120_000, stderr: 0, ended: 2 });
  });

  it('reports a program that cannot be started', async () => {
    const result = await runChild({
      command: ['/nonexistent/trig-no-such-program'],
      env: ENV,
      cwd: tmpdir(),
      output: byLine(() => undefined),
    });
    expect(result).toEqual({ exitCode: null, error: '/nonexistent/trig-no-such-program: not found' });
  });

  it('names a missing working directory, not the program, when that is what is missing', async () => {
    const cwd = path.join(tmpdir(), 'trig-no-such-directory');
    const result = await runChild({ command: ['sh', '-c', 'true'], env: ENV, cwd, output: byLine(() => undefined) });
    expect(result).toEqual({ exitCode: null, error: `working directory ${cwd}: not found` });
  });

  it('reports a program that is not executable, and an argument Node refuses, without starting anything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-noexec-'));
    const script = path.join(dir, 'script');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o644);
    const opts = { env: ENV, cwd: dir, output: byLine(() => undefined) };
    // As root, execve refuses a file with no execute bit all the same.
    expect(await runChild({ command: [script], ...opts })).toEqual({ exitCode: null, error: `spawn ${script} EACCES` });
    const nul = await runChild({ command: ['sh', '-c', 'touch ran', 'a\0b'], ...opts });
    expect(nul.exitCode).toBeNull();
    expect(nul.error).toMatch(/^The argument 'args\[2\]' must be a string without null bytes/);
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
  });
});

describe('stopRunProcesses', () => {
  /** Starts `script` as a group leader of its own with `env`; resolves with the pids it wrote to pid files. */
  async function started(script: string, env: Record<string, string>, pidFiles: string[]): Promise<number[]> {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-run-processes-'));
    const child = spawn('sh', ['-c', script], { cwd: dir, env: { ...ENV, ...env }, detached: true, stdio: 'ignore' });
    child.unref();
    const files = pidFiles.map((name) => path.join(dir, name));
    for (const until = Date.now() + 10_000; !files.every((file) => readFileSync(file, { flag: 'a+' }).includes('\n'));) {
      if (Date.now() > until) throw new Error(`${script} did not write ${pidFiles.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return [child.pid!, ...files.map((file) => Number(readFileSync(file, 'utf8')))];
  }

  it('stops the processes whose environment names the run, those that left its group included, and no other', async () => {
    const filler = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`FILLER_${i}`, 'x'.repeat(500)]));
    // A step, what it left in the background, and what it started in a session of its own.
    const step = await started('sleep 60 & echo $! > bg.pid; setsid sleep 60 & echo $! > own.pid; wait', { ...filler, TRIG_RUN_ID: 'r1' }, [
      'bg.pid',
      'own.pid',
    ]);
    const others = [
      ...(await started('echo $$ > me.pid; exec sleep 60', { TRIG_RUN_ID: 'r12' }, [])),
      ...(await started('echo $$ > me.pid; exec sleep 60', { XTRIG_RUN_ID: 'r1', OTHER: 'TRIG_RUN_ID=r1' }, [])),
    ];
    try {
      expect([...step, ...others].map(alive)).toEqual([true, true, true, true, true]);
      await stopRunProcesses(['r1'], 1000);
      expect([...step, ...others].map(alive)).toEqual([false, false, false, true, true]);
    } finally {
      for (const pid of [...step, ...others]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('sends SIGKILL to what is still there when the grace period ends', async () => {
    const [pid] = await started('trap "" TERM; echo $$ > me.pid; while :; do sleep 0.05; done', { TRIG_RUN_ID: 'r2' }, ['me.pid']);
    try {
      await stopRunProcesses(['r0', 'r2'], 200);
      expect(alive(pid!)).toBe(false);
    } finally {
      if (alive(pid!)) process.kill(-pid!, 'SIGKILL');
    }
  });
});

describe('findProgram', () => {
  it('looks a bare name up on the PATH it is given, and takes a name with a slash as a path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-path-'));
    writeFileSync(path.join(dir, 'engine'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'engine'), 0o755);
    writeFileSync(path.join(dir, 'not-executable'), '');
    expect(findProgram('engine', { PATH: `/nonexistent${path.delimiter}${dir}` }, '/')).toBe(path.join(dir, 'engine'));
    expect(findProgram('engine', { PATH: '/nonexistent' }, '/')).toBeUndefined();
    expect(findProgram('not-executable', { PATH: dir }, '/')).toBeUndefined();
    expect(findProgram('./engine', {}, dir)).toBe(path.join(dir, 'engine'));
  });
});
