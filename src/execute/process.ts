import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

// Every child starts as the leader of its own process group (detached), so trig can signal
// the whole tree a script leaves behind — background jobs, grandchildren — with one
// process.kill(-pgid). A process that moves itself to another group or session (setsid)
// escapes this; nothing short of cgroups can follow it.

/** How long a process tree gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5000;

const POLL_MS = 25;
/** How long output may still arrive after a step's process group is gone. */
const DRAIN_MS = 2000;

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // To kill(2), group 0 is trig's own and -1 is every process it may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

// Orphans are reparented to init, and where init does not reap them (many containers) they
// linger as zombies: dead, yet still members of the group as far as kill(2) can tell. On
// Linux /proc tells the living from the dead; elsewhere a signal-0 probe has to do.
function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = statFields(stat);
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/** The fields of /proc/<pid>/stat from the third on (state ppid pgrp …). */
function statFields(stat: string): string[] {
  // pid (comm) state …; comm may itself contain spaces and parentheses.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** SIGTERM to the group, then SIGKILL to whatever is left after the grace period. */
export async function stopGroup(pgid: number, graceMs = KILL_GRACE_MS): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await delay(POLL_MS);
    if (!groupAlive(pgid)) return;
  }
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL cannot be ignored, but the kernel needs a moment to tear the processes down;
  // returning before then would let trig exit while they still show in the process table.
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await delay(POLL_MS);
}

// Every step starts with TRIG_RUN_ID=<its run> in its environment, and what it starts
// inherits it. That is how the processes of a run are found when its trig died between
// spawning a step and recording the step's group (a SIGKILL in that window left no other
// trace of them), and those that left the group. A process that clears its environment
// before it execs escapes this, as one that calls setsid escapes its group.

/** A process found by its environment, and when it started (so a reused pid is not it). */
interface RunProcess {
  pid: number;
  startedAt: string;
}

/** The most of a process's environment trig reads (Linux caps it near 2 MiB by default). */
const ENVIRON_LIMIT = 4 << 20;
/** Grown as environments need, up to ENVIRON_LIMIT; most fit in the first 64 KiB. */
let environBuffer = Buffer.alloc(0);

/** Whether the environment a process started with holds one of `entries` (NAME=value, NUL-ended). */
function environHolds(pid: string, entries: readonly Buffer[]): boolean {
  const fd = openSync(`/proc/${pid}/environ`, 'r');
  let size = 0;
  try {
    for (;;) {
      if (size === environBuffer.length) {
        if (size >= ENVIRON_LIMIT) break;
        const grown = Buffer.allocUnsafe(Math.min(ENVIRON_LIMIT, Math.max(64 << 10, size * 2)));
        environBuffer.copy(grown, 0, 0, size);
        environBuffer = grown;
      }
      const n = readSync(fd, environBuffer, size, environBuffer.length - size, null);
      if (n === 0) break;
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  const environ = environBuffer.subarray(0, size);
  return entries.some((entry) => {
    if (environ.subarray(0, entry.length).equals(entry)) return true;
    for (let at = environ.indexOf(entry); at >= 0; at = environ.indexOf(entry, at + 1)) if (environ[at - 1] === 0) return true;
    return false;
  });
}

/** This user's live processes (trig's own excepted) whose environment holds one of `entries`. */
function processesHolding(entries: readonly Buffer[]): RunProcess[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const found: RunProcess[] = [];
  for (const pid of pids) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      // Only this user's: a root trig must not stop another user's process that names the run.
      if (statSync(`/proc/${pid}`).uid !== uid || !environHolds(pid, entries)) continue;
      const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (fields[0] !== 'Z' && fields[0] !== 'X') found.push({ pid: Number(pid), startedAt: fields[19]! });
    } catch {
      // It ended while being read, or its files are not this user's to read.
    }
  }
  return found;
}

/** Signals a process just found (its pid cannot have been reused since). */
function signalProcess(target: RunProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(target.pid, signal);
  } catch {
    // Gone already.
  }
}

/**
 * Stops every process of this user whose environment names one of the runs (TRIG_RUN_ID):
 * SIGTERM, then SIGKILL to what is left after the grace period. One look through /proc per
 * poll, however many runs; looked for again at every poll, so what they start meanwhile is
 * stopped too. Linux only (/proc); elsewhere nothing is found.
 */
export async function stopRunProcesses(runIds: readonly string[], graceMs = KILL_GRACE_MS): Promise<void> {
  if (!runIds.length) return;
  const entries = runIds.map((id) => Buffer.from(`TRIG_RUN_ID=${id}\0`));
  // By pid and start time: a process is sent SIGTERM once, and a pid reused since is another.
  const told = new Set<string>();
  const terminate = (): boolean => {
    const found = processesHolding(entries);
    for (const target of found) {
      const key = `${target.pid} ${target.startedAt}`;
      if (!told.has(key)) signalProcess(target, 'SIGTERM');
      told.add(key);
    }
    return found.length > 0;
  };
  if (!terminate()) return;
  for (const deadline = Date.now() + graceMs; Date.now() < deadline;) {
    await delay(POLL_MS);
    if (!terminate()) return;
  }
  for (let i = 0; i < 40; i++) {
    const found = processesHolding(entries);
    if (!found.length) return;
    for (const target of found) signalProcess(target, 'SIGKILL');
    await delay(POLL_MS);
  }
}

/** Where a child's output goes, chunk by chunk as trig reads it. */
export interface ChunkSink {
  /**
   * A promise means the output is behind (trig's own reader is slow): the pipe is not read
   * until it settles, so a child that writes faster than that blocks once the pipe is full,
   * instead of trig holding what it wrote in memory.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  /** No more output: the pipe ended, or trig stopped reading it. */
  end(): void;
}

interface PipeReader {
  /** Whether trig is holding off reading this pipe until its output catches up. */
  readonly waiting: boolean;
  /** Ends the sink, once, whether or not the pipe itself ended. */
  finish(): void;
}

function readPipe(stream: Readable | null | undefined, sink: ChunkSink): PipeReader {
  let waiting = false;
  let finished = false;
  const finish = () => {
    if (!finished) sink.end();
    finished = true;
  };
  // Node resumes a child's pipes when the child exits; the next chunk that finds the
  // output still behind pauses the pipe again, so at most one chunk is taken early.
  stream?.on('data', (chunk: Buffer) => {
    const behind = sink.write(chunk);
    if (!behind) return;
    waiting = true;
    stream.pause();
    void behind.finally(() => {
      waiting = false;
      stream.resume();
    });
  });
  stream?.once('end', finish);
  return {
    get waiting() {
      return waiting;
    },
    finish,
  };
}

/** Resolves after `ms` during which `counts()` held, checked every POLL_MS. */
async function countedDelay(ms: number, counts: () => boolean): Promise<void> {
  for (let counted = 0; counted < ms;) {
    await delay(POLL_MS, undefined, { ref: false });
    if (counts()) counted += POLL_MS;
  }
}

/** `own` marks a step's own time limit, as opposed to its run's. */
export type StopReason =
  | { kind: 'timeout'; after: number; own?: boolean }
  | { kind: 'signal'; signal: NodeJS.Signals }
  /** A newer run of the same concurrency group asked this one to stop. */
  | { kind: 'cancel'; reason: string };

export interface ChildOptions {
  command: readonly string[];
  env: Record<string, string>;
  cwd: string;
  /** Where each of the child's output streams goes. */
  output(stream: 'stdout' | 'stderr'): ChunkSink;
  /** The step's own time limit. */
  timeoutMs?: number;
  /** Aborted when the run is stopped (its time is up, or trig got a signal); the reason is a StopReason. */
  stop?: AbortSignal;
  graceMs?: number;
  /** Told about each process group while it exists, so a second signal can SIGKILL it at once. */
  track?: { add(pgid: number): void; delete(pgid: number): void };
}

export interface ChildResult {
  exitCode: number | null;
  signal?: string;
  /** Why trig ended the child: its time was up, or trig was stopped. */
  stopped?: StopReason;
  /** The child could not be started. */
  error?: string;
}

/** Runs one command as a process group leader, streaming its output line by line. */
export async function runChild(options: ChildOptions): Promise<ChildResult> {
  const [file, ...args] = options.command;
  if (!file) return { exitCode: null, error: 'the step has no command' };
  if (options.stop?.aborted) return { exitCode: null, stopped: options.stop.reason as StopReason };

  // node:child_process directly: a step needs one spawn with no buffering, no shell and no
  // clean-up on exit (trig stops the tree itself), and a library for that cost every fire
  // that runs something some 15 ms to load.
  let child: ChildProcess;
  try {
    child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // Arguments Node refuses outright (a NUL byte) and errors libuv does not report as events.
    return { exitCode: null, error: (error as Error).message };
  }
  // Settles once the child has exited and its pipes have closed, or when it could not start.
  const settled = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>((resolve) => {
    // Listened to for good: an 'error' event nobody listens to would throw.
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) resolve({ error });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const pgid = child.pid;
  let stopped: StopReason | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const stopping: Promise<void>[] = [];

  const stopTree = (reason?: StopReason) => {
    if (pgid === undefined) return;
    if (reason && !stopped) stopped = reason;
    stopping.push(stopGroup(pgid, options.graceMs));
  };

  let done = false;
  const pipes = [readPipe(child.stdout, options.output('stdout')), readPipe(child.stderr, options.output('stderr'))];

  if (pgid !== undefined) options.track?.add(pgid);
  const timer =
    options.timeoutMs !== undefined
      ? setTimeout(() => stopTree({ kind: 'timeout', after: options.timeoutMs!, own: true }), options.timeoutMs)
      : undefined;
  const onStop = () => stopTree(options.stop!.reason as StopReason);
  options.stop?.addEventListener('abort', onStop, { once: true });

  // When the leader exits, whatever it left running in its group is stopped too: a step's
  // background processes end with the step, and their open pipes cannot keep trig waiting.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      if (pgid !== undefined && groupAlive(pgid)) stopTree();
      resolve();
    });
  });

  try {
    // A process that left the group (setsid) may still hold the pipes: once the group is
    // gone, trig stops reading rather than wait for it. Time spent waiting for trig's own
    // reader does not count: what the group wrote before it ended is all passed on.
    const abandoned =
      pgid === undefined
        ? new Promise<never>(() => undefined)
        : exited.then(async () => {
            await Promise.all(stopping);
            await countedDelay(DRAIN_MS, () => done || !pipes.some((pipe) => pipe.waiting));
            return undefined;
          });
    const result = await Promise.race([settled, abandoned]);
    await Promise.all(stopping);
    if (result && 'error' in result) return { exitCode: null, error: startError(file, options.cwd, result.error) };
    if (!result) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    const code = exit?.code ?? result?.code ?? null;
    const signal = exit?.signal ?? result?.signal ?? undefined;
    return { exitCode: code, ...(signal ? { signal } : {}), ...(stopped ? { stopped } : {}) };
  } finally {
    done = true;
    for (const pipe of pipes) pipe.finish();
    if (timer) clearTimeout(timer);
    options.stop?.removeEventListener('abort', onStop);
    if (pgid !== undefined) {
      // Nothing may outlive its step, whatever path led here.
      if (groupAlive(pgid)) await stopGroup(pgid, options.graceMs);
      options.track?.delete(pgid);
    }
  }
}

/** Why a child could not be started, in a line that names what is missing. */
function startError(file: string, cwd: string, error: NodeJS.ErrnoException): string {
  // spawn says ENOENT both for a missing program and for a missing working directory.
  if (error.code === 'ENOENT') {
    let cwdIsDirectory = false;
    try {
      cwdIsDirectory = statSync(cwd).isDirectory();
    } catch {
      // Missing or unreadable: reported below.
    }
    return cwdIsDirectory ? `${file}: not found` : `working directory ${cwd}: not found`;
  }
  return error.message;
}
