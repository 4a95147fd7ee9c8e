import { randomUUID } from 'node:crypto';
import { readBounded, TooLargeError } from '../load/read.js';
import { signGithub, signLinear, signStandard, SECRET_ENV, type Route } from '../integrations/serve/verify.js';
import { UsageError } from '../shared/errors.js';
import type { Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { parseRoute, parseSize } from './serve-flags.js';
import { checkEvent } from '../catalog/events.js';

/** The flags of `trig sign`, as commander gives them. */
export interface SignFlags {
  route: string;
  secretEnv?: string;
  id?: string;
  event?: string;
  json?: boolean;
}

const MAX_SIGNED_BYTES = parseSize('', '25MiB');

async function readAll(file: string): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of process.stdin) {
      total += (chunk as Buffer).length;
      if (total > MAX_SIGNED_BYTES) throw new UsageError('standard input: larger than 25 MiB');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
  try {
    return readBounded(file, MAX_SIGNED_BYTES);
  } catch (error) {
    if (error instanceof TooLargeError) throw new UsageError(`${oneLine(file)}: larger than 25 MiB`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${oneLine(file)}: cannot read the payload (${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)})`,
    );
  }
}

/** The headers that sign `body` for a route, as its sender would send them. */
export function signedHeaders(
  route: Route,
  body: Buffer,
  secret: string,
  id: string,
  event: string | undefined,
  now: Date,
): Record<string, string> {
  if (route === 'github') {
    return {
      'Content-Type': 'application/json',
      'X-GitHub-Event': event!,
      'X-GitHub-Delivery': id,
      'X-Hub-Signature-256': signGithub(body, secret),
    };
  }
  if (route === 'linear')
    return { 'Content-Type': 'application/json', 'Linear-Delivery': id, 'Linear-Signature': signLinear(body, secret) };
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = signStandard(body, id, timestamp, secret);
  if (signature === undefined) throw new UsageError('the secret is not a Standard Webhooks secret (whsec_ followed by base64)');
  return { 'Content-Type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
}

/** `trig sign`: the headers a sender would send with the payload, for curl. */
export async function runSign(payload: string, flags: SignFlags, io: Output): Promise<number> {
  const route = parseRoute('--route', flags.route);
  const variable = flags.secretEnv ?? SECRET_ENV[route];
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable))
    throw new UsageError(`--secret-env "${oneLine(variable)}": expected an environment variable name`);
  const secret = process.env[variable];
  if (!secret) throw new UsageError(`${variable} is not set: it holds the secret to sign with`);
  if (route === 'github') {
    if (flags.event === undefined) throw new UsageError('--route github needs --event (the X-GitHub-Event header: push, issue_comment, …)');
    if (flags.event !== 'ping') checkEvent(flags.event);
  } else if (route === 'standard' && flags.event !== undefined) {
    checkEvent(flags.event);
  } else if (flags.event !== undefined) {
    throw new UsageError('--event goes with --route github or standard (Linear deliveries name their type in the body)');
  }
  const id = flags.id ?? randomUUID();
  if (!/^[\x21-\x7e]{1,200}$/.test(id)) throw new UsageError(`--id "${oneLine(id)}": expected 1 to 200 printable characters, no spaces`);
  const body = await readAll(payload);
  const headers = signedHeaders(route, body, secret, id, flags.event, new Date());
  const urlPath = route === 'standard' ? `/events/${flags.event ?? '<event>'}` : `/${route}`;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ route, path: urlPath, id, headers }, null, 2)}\n`);
    return 0;
  }
  for (const [name, value] of Object.entries(headers)) io.stdout.write(`-H '${name}: ${value}'\n`);
  return 0;
}
