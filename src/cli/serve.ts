import path from 'node:path';
import { checkWorkdir } from '../fire/index.js';
import { pageAccess } from '../integrations/serve/page.js';
import { serve } from '../integrations/serve/server.js';
import { parseDuration } from '../shared/duration.js';
import { UsageError } from '../shared/errors.js';
import { noticesTo, type Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { styleFor } from '../shared/style.js';
import { loadDefinitions } from '../validate/definitions.js';
import { parseConcurrency, parseTimeout, processFireDeps } from './fire.js';
import { parseRoute, parseSize } from './serve-flags.js';

/** The flags of `trig serve`, as commander gives them. */
export interface ServeFlags {
  host: string;
  port: string;
  defs?: string[];
  concurrency: string;
  queue: string;
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
  const maxConnections = wholeNumber('--max-connections', flags.maxConnections, 1);
  const maxBodyBytes = parseSize('--max-body', flags.maxBody);
  const graceMs = duration('--grace', flags.grace);
  const requestTimeoutMs = duration('--request-timeout', flags.requestTimeout);
  const timeoutMs = parseTimeout(flags.timeout);
  const allowUnsigned = (flags.allowUnsigned ?? []).map((r) => parseRoute('--allow-unsigned', r));
  const workdir = path.resolve(flags.workdir ?? '.');
  checkWorkdir(workdir);
  const { now, env, cwd, openStore } = processFireDeps(io, flags);
  return serve({
    host: flags.host,
    port,
    defs: flags.defs ?? [],
    concurrency,
    queue,
    maxBodyBytes,
    graceMs,
    requestTimeoutMs,
    maxConnections,
    allowUnsigned,
    page,
    fireOptions: { workdir, concurrency, timeoutMs, quiet: Boolean(flags.quiet), containerRuntime: flags.containerRuntime },
    deps: { now, env, cwd },
    openStore: () => openStore!(),
    loadDefinitions: (paths) => loadDefinitions(paths, { cache: flags.cache, env, notice: noticesTo(io.stderr) }),
    io,
    style: await styleFor(io.stdout),
  });
}
