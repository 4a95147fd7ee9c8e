import { checkEvent, checkWorkdir, fire, fireExitCode, openStore, presentFire, type FireDeps, type FireRequest } from '../fire/index.js';
import { PayloadError, parsePayload, readPayload } from '../load/payload.js';
import { deliveryRecordHint } from '../match/github.js';
import { parseDuration } from '../shared/duration.js';
import { EXIT, SIGNAL_EXIT, UsageError } from '../shared/errors.js';
import { oneLine } from '../shared/printable.js';
import { noticesTo, type Output } from '../shared/io.js';
import { styleFor } from '../shared/style.js';
import { loadDefinitions } from '../validate/definitions.js';
import type { StoreSharing } from '../store/thread-lock.js';
import { FIRE_DEFAULTS, MAX_CHAIN_DEPTH } from '../fire/defaults.js';
import { expiredText } from '../fire/gates.js';

/** The flags of `trig fire`, as commander gives them. */
export interface FireFlags {
  event: string;
  payload?: string;
  defs?: string[];
  input?: string[];
  at?: string;
  dryRun?: boolean;
  explain?: boolean;
  json?: boolean;
  quiet?: boolean;
  workdir?: string;
  containerRuntime: string;
  concurrency: string;
  chainDepth?: string;
  timeout?: string;
  /** false with --no-cache. */
  cache?: boolean;
  /** --strict: a definition with warnings is treated as invalid and never fires. */
  strict?: boolean;
  /** --from-git: the push payload is built from the repository here, not read from --payload. */
  fromGit?: boolean;
  before?: string;
  after?: string;
  ref?: string;
  /** --delivery-id: the first fire with this id runs, any later one runs nothing. */
  deliveryId?: string;
  /** --cron: the tick of the cron entry (integrations/cron/tick.ts). */
  cron?: boolean;
  /** --verify ROUTE: the payload's raw bytes must carry a valid signature of that route's sender. */
  verify?: string;
  signature?: string;
  /** --timestamp: the webhook-timestamp header, for --verify standard. */
  timestamp?: string;
}

/** The signature check of --verify failed: nothing is fired, exit 1. */
class VerifyError extends Error {}

/** --verify: reads the payload's raw bytes, checks them as trig serve does, then parses them. */
async function verifiedPayload(flags: FireFlags): Promise<Record<string, unknown>> {
  const { parseRoute } = await import('./serve-flags.js');
  const route = parseRoute('--verify', flags.verify!);
  const { SECRET_ENV, verifyGithub, verifyLinear, verifyStandard, linearTimestamp } = await import('../integrations/serve/verify.js');
  if (flags.payload === undefined) throw new UsageError('--verify needs --payload (a file, or - for standard input)');
  if (flags.signature === undefined) throw new UsageError('--verify needs --signature (the signature header as received)');
  if (flags.deliveryId === undefined) throw new UsageError('--verify needs --delivery-id (the delivery header as received)');
  if (route === 'standard' && flags.timestamp === undefined)
    throw new UsageError('--verify standard needs --timestamp (the webhook-timestamp header)');
  if (route !== 'standard' && flags.timestamp !== undefined) throw new UsageError('--timestamp goes with --verify standard');
  const secret = process.env[SECRET_ENV[route]];
  if (!secret) throw new UsageError(`--verify ${route}: ${SECRET_ENV[route]} is not set`);
  const { readPayloadBytes } = await import('../load/payload.js');
  let body: Buffer;
  try {
    body = await readPayloadBytes(flags.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new UsageError(error.message);
    throw error;
  }
  const now = new Date();
  const verdict =
    route === 'github'
      ? verifyGithub(body, flags.signature, secret)
      : route === 'linear'
        ? verifyLinear(body, flags.signature, secret)
        : verifyStandard(body, { id: flags.deliveryId, timestamp: flags.timestamp, signature: flags.signature }, secret, now);
  if (!verdict.ok) throw new VerifyError(`--verify ${route}: ${verdict.reason}; nothing fired`);
  let payload: Record<string, unknown>;
  try {
    payload = parsePayload(body.toString('utf8'), flags.payload === '-' ? 'standard input' : flags.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new UsageError(error.message);
    throw error;
  }
  if (route === 'linear') {
    const fresh = linearTimestamp(payload, now);
    if (!fresh.ok) throw new VerifyError(`--verify linear: ${fresh.reason}; nothing fired`);
  }
  return payload;
}

const INPUT = /^([A-Za-z_][A-Za-z0-9_.-]*)=([\s\S]*)$/;

export function parseInputs(pairs: readonly string[]): Record<string, string> {
  // Without a prototype: `--input constructor=…` or `__proto__=…` is a name like any other.
  const inputs: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const match = INPUT.exec(pair);
    if (!match) throw new UsageError(`--input "${pair}": expected key=value, with a key of letters, digits, _ . -`);
    inputs[match[1]!] = match[2]!;
  }
  return inputs;
}

/** --at, or undefined for the fire core's clock. */
export function parseAt(at: string | undefined): Date | undefined {
  if (at === undefined) return undefined;
  const date = new Date(at);
  if (!/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--at "${at}": expected an ISO-8601 time such as 2026-11-23T09:00:00Z`);
  }
  return date;
}

/** A delivery id is kept and shown: printable, one line, bounded. */
export function parseDeliveryId(id: string): string {
  if (!/^[\x21-\x7e]{1,200}$/.test(id))
    throw new UsageError(`--delivery-id "${oneLine(id)}": expected 1 to 200 printable characters, no spaces`);
  return id;
}

export function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--concurrency "${text}": expected a positive whole number`);
  }
  return n;
}

export function parseChainDepth(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > MAX_CHAIN_DEPTH) {
    throw new UsageError(`--chain-depth "${oneLine(text)}": expected a whole number from 0 to ${MAX_CHAIN_DEPTH}`);
  }
  return n;
}

export function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--timeout "${text}": expected a duration such as 500ms, 90s, 30m or 1h`);
  return ms;
}

async function payloadOf(flags: FireFlags): Promise<Record<string, unknown>> {
  if (flags.verify !== undefined) {
    if (flags.fromGit || flags.before !== undefined || flags.after !== undefined || flags.ref !== undefined)
      throw new UsageError('--verify cannot be combined with --from-git');
    return verifiedPayload(flags);
  }
  if (flags.signature !== undefined || flags.timestamp !== undefined) throw new UsageError('--signature and --timestamp go with --verify');
  try {
    return flags.fromGit || flags.before !== undefined || flags.after !== undefined || flags.ref !== undefined
      ? (await import('../integrations/git/fire-from-git.js')).fromGitPayload(flags)
      : await readPayload(flags.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new UsageError(error.message);
    throw error;
  }
}

/** The fire request the flags describe; every usage error is found here, before anything is loaded or run. */
async function fireRequest(flags: FireFlags, io: Output): Promise<FireRequest> {
  checkEvent(flags.event);
  const inputs = parseInputs(flags.input ?? []);
  const workdir = flags.workdir ?? process.cwd();
  const at = parseAt(flags.at);
  const concurrency = parseConcurrency(flags.concurrency);
  const chainDepth = parseChainDepth(flags.chainDepth ?? String(FIRE_DEFAULTS.chainDepth));
  const timeoutMs = parseTimeout(flags.timeout);
  if (!flags.dryRun) checkWorkdir(workdir);
  const payload = await payloadOf(flags);
  const recordHint = deliveryRecordHint(payload);
  if (recordHint) io.stderr.write(`trig: warning: ${recordHint}\n`);
  const { dryRun = false, strict = false, quiet = false, containerRuntime } = flags;
  return {
    event: flags.event,
    payload,
    definitions: flags.defs ?? [],
    inputs,
    at,
    options: { dryRun, strict, quiet, concurrency, timeoutMs, workdir, containerRuntime, chainDepth },
    ...(flags.deliveryId !== undefined ? { deliveryKey: parseDeliveryId(flags.deliveryId) } : {}),
    // A verified delivery came over HTTP (a CGI script, another receiver): it is one delivery with trig serve's.
    ...(flags.verify !== undefined ? { source: 'http' as const } : {}),
  };
}

/** What the fire core needs of the process: its clock, environment and directory, and definitions loaded with notices on stderr. */
export function processFireDeps(
  io: Output,
  options: { cache?: boolean },
  /** How the store is shared with the process's other threads that write to it (trig serve's two). */
  sharing?: StoreSharing,
): Pick<FireDeps, 'now' | 'env' | 'cwd' | 'loadDefinitions' | 'openStore'> {
  return {
    openStore: () => openStore(process.env, sharing),
    now: () => new Date(),
    env: process.env,
    cwd: () => process.cwd(),
    loadDefinitions: async (paths) =>
      (await loadDefinitions(paths, { cache: options.cache, env: process.env, notice: noticesTo(io.stderr) })).checked,
  };
}

/** The flags the cron entry's tick cannot take: it fires this minute's schedules, and catches up, as the entry says. */
function checkCronFlags(flags: FireFlags): void {
  if (flags.event !== 'schedule') throw new UsageError(`--cron fires the schedule event, not "${oneLine(flags.event)}"`);
  const refused = [
    ['--json', flags.json],
    ['--dry-run', flags.dryRun],
    ['--payload', flags.payload !== undefined],
    ['--delivery-id', flags.deliveryId !== undefined],
    ['--from-git', flags.fromGit || flags.before !== undefined || flags.after !== undefined || flags.ref !== undefined],
  ] as const;
  const given = refused.find(([, on]) => on);
  if (given) throw new UsageError(`--cron cannot be combined with ${given[0]}: it is the cron entry's tick (see trig cron)`);
}

/** `trig fire --cron`: this minute's schedules and the catch-ups, each outcome said as it ends; the worst exit code. */
async function runCronTick(flags: FireFlags, io: Output): Promise<number> {
  checkCronFlags(flags);
  const request = await fireRequest(flags, io);
  const { cronTick } = await import('../integrations/cron/tick.js');
  const style = await styleFor(io.stdout);
  const presenter = presentFire(io, { json: false, explain: Boolean(flags.explain), quiet: Boolean(flags.quiet), style });
  let resumedExit: number = EXIT.ok;
  const outcomes = await cronTick(
    { at: request.at ?? new Date(), definitions: flags.defs ?? [], ...(request.options ? { options: request.options } : {}) },
    {
      ...processFireDeps(io, flags),
      runOutput: io.stdout,
      runStyle: style,
      onPlanned: presenter.planned,
      onFinished: presenter.finished,
      warn: (message) => io.stderr.write(`trig: warning: ${message}\n`),
      onResumed: (outcome) => {
        for (const resumed of outcome.resumed) for (const chained of resumed.chained) presenter.finished(chained);
        for (const expired of outcome.expired) io.stdout.write(`${expiredText(expired)}\n`);
        resumedExit = outcome.signal ? (SIGNAL_EXIT[outcome.signal] ?? 128) : outcome.failed ? EXIT.problems : EXIT.ok;
      },
    },
  );
  return Math.max(resumedExit, ...outcomes.map(fireExitCode));
}

/** `trig fire`: the flags become a request to the fire core, its outcome text or JSON, and an exit code. */
export async function runFire(flags: FireFlags, io: Output): Promise<number> {
  if (flags.cron) return runCronTick(flags, io);
  let request: FireRequest;
  try {
    request = await fireRequest(flags, io);
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    io.stderr.write(`trig: ${error.message}\n`);
    return EXIT.problems;
  }
  // With --json, standard output is the one JSON document: the runs' lines go to stderr.
  const runOutput = flags.json ? io.stderr : io.stdout;
  const style = await styleFor(runOutput);
  const presenter = presentFire(io, { json: Boolean(flags.json), explain: Boolean(flags.explain), quiet: Boolean(flags.quiet), style });
  const outcome = await fire(request, { ...processFireDeps(io, flags), runOutput, runStyle: style, onPlanned: presenter.planned });
  presenter.finished(outcome);
  return fireExitCode(outcome);
}
