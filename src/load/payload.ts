import { formatBytes, readBounded, TooLargeError } from './read.js';

/** Payloads come from outside: bounded in size and depth, and never more than one JSON object. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * How deeply a payload may nest arrays and objects. Real webhook bodies nest about ten
 * levels; every stage after loading (matching, masking, serialising the payload for
 * TRIG_PAYLOAD) walks values recursively, and a hostile payload nested thousands of levels
 * deep would exhaust the stack in one of them.
 */
export const MAX_PAYLOAD_DEPTH = 512;

export class PayloadError extends Error {}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

function tooLarge(source: string, limit = MAX_PAYLOAD_BYTES): PayloadError {
  return new PayloadError(`${source}: payload is larger than ${formatBytes(limit)}`);
}

/**
 * The offset of the bracket that opens level `MAX_PAYLOAD_DEPTH + 1`, if the text nests
 * that deep. One pass without recursion, skipping strings: for the error's position, and for
 * text JSON.parse refused (a depth error is reported before a syntax error further on).
 */
function tooDeepAt(text: string): number | undefined {
  // From one bracket or quote to the next (a native search), and over each string to its
  // closing quote: most of a payload is the text of its strings.
  const structural = /["[\]{}]/g;
  let depth = 0;
  for (let found = structural.exec(text); found !== null; found = structural.exec(text)) {
    const i = found.index;
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // The closing quote: the next one not escaped (after an even run of backslashes).
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && backslashesBefore(text, end) % 2 === 1) end = text.indexOf('"', end + 1);
      if (end === -1) return undefined;
      structural.lastIndex = end + 1;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MAX_PAYLOAD_DEPTH) return i;
    } else {
      depth--;
    }
  }
  return undefined;
}

function backslashesBefore(text: string, at: number): number {
  let n = 0;
  while (at - n - 1 >= 0 && text.charCodeAt(at - n - 1) === 0x5c /* \ */) n++;
  return n;
}

/** Parses a payload text; errors name the source and, for bad JSON, the line and column. */
export function parsePayload(text: string, source: string, maxBytes = MAX_PAYLOAD_BYTES): Record<string, unknown> {
  if (Buffer.byteLength(text) > maxBytes) throw tooLarge(source, maxBytes);
  if (text.trim() === '') return {};
  const tooDeep = (at: number) =>
    new PayloadError(`${source}:${position(text, at)}: the payload nests more than ${MAX_PAYLOAD_DEPTH} levels of arrays and objects`);
  // Parsed first (V8's parser does not recurse, whatever the depth), the depth then read from
  // the value: cheaper than scanning the text, which trig serve would do for every delivery.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const deep = tooDeepAt(text);
    if (deep !== undefined) throw tooDeep(deep);
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? `:${position(text, Number(at[1]))}` : '';
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
    throw new PayloadError(`${source}${where}: invalid JSON: ${reason}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new PayloadError(`${source}: the payload must be a JSON object, not ${kind}`);
  }
  if (nestsDeeperThan(value, MAX_PAYLOAD_DEPTH)) throw tooDeep(tooDeepAt(text) ?? 0);
  return value as Record<string, unknown>;
}

/** Whether a parsed value nests arrays and objects more than `max` levels (without recursion). */
function nestsDeeperThan(value: object, max: number): boolean {
  const pending: object[] = [value];
  const depths: number[] = [1];
  while (pending.length) {
    const node = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child as object);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** The raw bytes of `--payload` (a file, or `-` for standard input), bounded: what a signature is checked on. */
export async function readPayloadBytes(argument: string): Promise<Buffer> {
  if (argument === '-') return readStream(process.stdin, 'standard input', true);
  try {
    return readBounded(argument, MAX_PAYLOAD_BYTES);
  } catch (error) {
    if (error instanceof TooLargeError) throw tooLarge(argument);
    const code = (error as NodeJS.ErrnoException).code;
    throw new PayloadError(
      `${argument}: cannot read the payload (${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)})`,
    );
  }
}

async function readStream(stream: NodeJS.ReadableStream, source: string): Promise<string>;
async function readStream(stream: NodeJS.ReadableStream, source: string, raw: true): Promise<Buffer>;
async function readStream(stream: NodeJS.ReadableStream, source: string, raw = false): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    // Stop reading at the limit rather than buffering a hostile stream whole.
    if (total > MAX_PAYLOAD_BYTES) throw tooLarge(source);
    chunks.push(buffer);
  }
  return raw ? Buffer.concat(chunks) : Buffer.concat(chunks).toString('utf8');
}

/** Reads `--payload`: a file, `-` for standard input, or nothing (an empty payload). */
export async function readPayload(argument: string | undefined): Promise<Record<string, unknown>> {
  if (argument === undefined) return {};
  if (argument === '-') return parsePayload(await readStream(process.stdin, 'standard input'), 'standard input');
  let text: string;
  try {
    // A file, a pipe or a device alike: never more than the limit is read.
    text = readBounded(argument, MAX_PAYLOAD_BYTES).toString('utf8');
  } catch (error) {
    if (error instanceof TooLargeError) throw tooLarge(argument);
    const code = (error as NodeJS.ErrnoException).code;
    throw new PayloadError(
      `${argument}: cannot read the payload (${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)})`,
    );
  }
  return parsePayload(text, argument);
}
