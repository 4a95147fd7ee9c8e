import { readFileSync, statSync } from 'node:fs';

/** Payloads come from outside: bounded in size, and never more than one JSON object. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export class PayloadError extends Error {}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

/** Parses a payload text; errors name the source and, for bad JSON, the line and column. */
export function parsePayload(text: string, source: string): Record<string, unknown> {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    throw new PayloadError(`${source}: payload is larger than ${MAX_PAYLOAD_BYTES / 1024 / 1024} MiB`);
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
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
  return value as Record<string, unknown>;
}

async function readStream(stream: NodeJS.ReadableStream, source: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    // Stop reading at the limit rather than buffering a hostile stream whole.
    if (total > MAX_PAYLOAD_BYTES) throw new PayloadError(`${source}: payload is larger than ${MAX_PAYLOAD_BYTES / 1024 / 1024} MiB`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `--payload`: a file, `-` for standard input, or nothing (an empty payload). */
export async function readPayload(argument: string | undefined): Promise<Record<string, unknown>> {
  if (argument === undefined) return {};
  if (argument === '-') return parsePayload(await readStream(process.stdin, 'standard input'), 'standard input');
  let text: string;
  try {
    if (statSync(argument).size > MAX_PAYLOAD_BYTES) {
      throw new PayloadError(`${argument}: payload is larger than ${MAX_PAYLOAD_BYTES / 1024 / 1024} MiB`);
    }
    text = readFileSync(argument, 'utf8');
  } catch (error) {
    if (error instanceof PayloadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new PayloadError(`${argument}: cannot read the payload (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})`);
  }
  return parsePayload(text, argument);
}
