import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { checkWorkdir } from '../fire/index.js';
import { pageAccess } from '../integrations/serve/page.js';
import type { RunnerSettings } from '../integrations/serve/runner-protocol.js';
import { serve } from '../integrations/serve/server.js';
import { parseDuration } from '../shared/duration.js';
import { ThreadLock } from '../store/thread-lock.js';
import { UsageError } from '../shared/errors.js';
import { fdWriter, noticesTo, type Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { styleFor } from '../shared/style.js';
import { loadDefinitions } from '../validate/definitions.js';
import { parseConcurrency, parseTimeout, processFireDeps } from './fire.js';
import { parseRoute, parseSize } from './serve-flags.js';

/** How often the run thread folds the store's write-ahead log back into the database file. */
const WAL_CHECKPOINT_MS = 100;

/** The flags of `trig serve`, as commander gives them. */
export interface ServeFlags {
  host: string;
  port: string;
  defs?: string[];
  concurrency: string;
  queue: string;
  nice: string;
  workdir?: string;
  grace: string;
  maxBody: string;
  requestTimeout: string;
  maxConnections: string;
  allowUnsigned?: string[];
  timeout?: string;
  quiet?: boolean;
  containerRuntime: string;
  /** false with --no-cache. */
  cache?: boolean;
  /** false with --no-page. */
  page?: boolean;
}

function wholeNumber(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} "${oneLine(text)}": expected a whole number from ${min} to ${max}`);
  }
  return n;
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} "${oneLine(text)}": expected a duration such as 500ms, 30s or 5m`);
  return ms;
}

/** `trig serve`: receives signed webhooks until SIGTERM or SIGINT. */
export async function runServe(flags: ServeFlags, io: Output): Promise<number> {
  const port = wholeNumber('--port', flags.port, 0, 65535);
  const page = flags.page === false ? undefined : pageAccess(flags.host, process.env);
  const concurrency = parseConcurrency(flags.concurrency);
  const queue = wholeNumber('--queue', flags.queue, 1);
  const nice = wholeNumber('--nice', flags.nice, 0, 19);
  const maxConnections = wholeNumber('--max-connections', flags.maxConnections, 1);
  const maxBodyBytes = parseSize('--max-body', flags.maxBody);
  const graceMs = duration('--grace', flags.grace);
  const requestTimeoutMs = duration('--request-timeout', flags.requestTimeout);
  const fireOptions = runOptions(flags);
  const allowUnsigned = (flags.allowUnsigned ?? []).map((r) => parseRoute('--allow-unsigned', r));
  checkWorkdir(fireOptions.workdir);
  // The two threads write to one store: they take turns through this lock (store/thread-lock.ts).
  const threadLock = new ThreadLock();
  const { now, env, cwd, openStore } = processFireDeps(io, flags, { lock: threadLock });
  return serve({
    host: flags.host,
    port,
    defs: flags.defs ?? [],
    concurrency,
    queue,
    nice,
    maxBodyBytes,
    graceMs,
    requestTimeoutMs,
    maxConnections,
    allowUnsigned,
    page,
    quiet: fireOptions.quiet,
    deps: { now, env, cwd },
    openStore: () => openStore!(),
    startRunner: (settings) =>
      // This same trig, as `trig serve-runner` in a worker thread (runServeRunner below).
      new Worker(process.argv[1]!, {
        argv: ['serve-runner'],
        workerData: { flags, settings, lock: threadLock.buffer } satisfies RunnerData,
      }),
    io,
  });
}

/** How trig serve's runs go, from its flags (checked by runServe before its run thread reads them again). */
function runOptions(flags: ServeFlags) {
  return {
    workdir: path.resolve(flags.workdir ?? '.'),
    concurrency: parseConcurrency(flags.concurrency),
    timeoutMs: parseTimeout(flags.timeout),
    quiet: Boolean(flags.quiet),
    containerRuntime: flags.containerRuntime,
  };
}

/** What trig serve hands its run thread. */
interface RunnerData {
  flags: ServeFlags;
  settings: RunnerSettings;
  /** The receiving thread's ThreadLock's. */
  lock: SharedArrayBuffer;
}

/**
 * `trig serve-runner` (hidden): trig serve's run thread (integrations/serve/runner.ts),
 * started by runServe in a worker thread of the same process; refused anywhere else. Its
 * lines go straight to the process's descriptors, not through the receiving thread.
 */
export async function runServeRunner(): Promise<number> {
  const data = workerData as RunnerData | undefined;
  if (isMainThread || !parentPort || !data?.settings)
    throw new UsageError('serve-runner is the run thread of trig serve; run `trig serve`');
  const { flags, settings } = data;
  const io: Output = { stdout: fdWriter(1), stderr: fdWriter(2) };
  const { now, env, cwd, openStore } = processFireDeps(io, flags, {
    lock: new ThreadLock(data.lock),
    // The copying of the store's log, done here, so that the receiving thread seldom waits on it.
    walCheckpointEveryMs: WAL_CHECKPOINT_MS,
  });
  const { runDeliveries } = await import('../integrations/serve/runner.js');
  await runDeliveries(
    {
      ...settings,
      fireOptions: runOptions(flags),
      deps: { now, env, cwd },
      openStore: () => openStore!(),
      loadDefinitions: (paths) => loadDefinitions(paths, { cache: flags.cache, env, notice: noticesTo(io.stderr) }),
      io,
      style: await styleFor(io.stdout),
    },
    parentPort,
  );
  return 0;
}
