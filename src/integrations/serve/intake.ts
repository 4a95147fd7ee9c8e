// What `trig serve` makes of a request, before anything is stored: the route (from the
// method and path alone), then, once the body is read, its signature (on the raw bytes,
// before any parsing), the delivery id, the parsed payload and the event. Pure: the server
// (server.ts) reads, stores and answers; this decides.

import { EVENT_NAMES, eventSpec } from '../../catalog/events.js';
import { PayloadError, parsePayload } from '../../load/payload.js';
import { linearCommentBody } from '../../match/linear.js';
import { mentionedNames } from '../../match/context.js';
import { oneLine } from '../../shared/printable.js';
import { suggest } from '../../shared/suggest.js';
import {
  DELIVERY_HEADER,
  linearTimestamp,
  SECRET_ENV,
  verifyGithub,
  verifyLinear,
  verifyStandard,
  type Route,
  type Verdict,
} from './verify.js';

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** An answer given without storing anything. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Said in the delivery's log line (never a secret, never the body). */
  reason?: string;
}

/** Where a request goes: a webhook route (and for /events/<event>, the event), the health check, or an answer at once. */
export type Routing = { route: Route; event?: string } | { route: 'healthz' } | { answer: Answer };

const PATHS = ['/github', '/linear', '/events/<event>', '/healthz'];

function error(status: number, message: string, headers?: Record<string, string>): Answer {
  return { status, body: { error: message }, reason: message, ...(headers ? { headers } : {}) };
}

export function routeOf(method: string, pathname: string): Routing {
  const post = (routing: Routing): Routing =>
    method === 'POST' ? routing : { answer: error(405, `${method} is not allowed on ${pathname}; use POST`, { Allow: 'POST' }) };
  if (pathname === '/healthz') {
    return method === 'GET' || method === 'HEAD'
      ? { route: 'healthz' }
      : { answer: error(405, `${method} is not allowed on /healthz; use GET`, { Allow: 'GET, HEAD' }) };
  }
  if (pathname === '/github') return post({ route: 'github' });
  if (pathname === '/linear') return post({ route: 'linear' });
  const events = /^\/events\/([^/]*)$/.exec(pathname);
  if (events) {
    const event = safeDecode(events[1]!);
    if (event === undefined || !eventSpec(event)) {
      const guess = event === undefined ? undefined : suggest(event, [...EVENT_NAMES]);
      return {
        answer: error(
          404,
          `unknown event "${oneLine(event ?? events[1]!)}"${guess ? `; did you mean "${guess}"?` : ''} (see the event list in the README)`,
        ),
      };
    }
    return post({ route: 'standard', event });
  }
  const guess = suggest(pathname.replace(/\/+$/, ''), PATHS);
  return { answer: error(404, `no route ${oneLine(pathname)}${guess ? `; did you mean ${guess}?` : ''} (routes: ${PATHS.join(', ')})`) };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The media type of a Content-Type header, lower case, without parameters. */
function mediaType(headers: Headers): string | undefined {
  const value = header(headers, 'content-type');
  return value?.split(';')[0]!.trim().toLowerCase() || undefined;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The content types a route takes; anything else is refused (415) before the body is read. */
export function checkContentType(route: Route, headers: Headers): Answer | undefined {
  const type = mediaType(headers);
  const accepted = route === 'github' ? [JSON_TYPE, FORM_TYPE] : [JSON_TYPE];
  if (type !== undefined && accepted.includes(type)) return undefined;
  return error(
    415,
    `${type === undefined ? 'no Content-Type' : `Content-Type ${oneLine(type)}`}: /${route} takes ${accepted.join(' or ')}`,
  );
}

export interface RouteSecrets {
  /** The route's secret, if its environment variable is set. */
  secret(route: Route): string | undefined;
  /** --allow-unsigned ROUTE: without a secret, the route takes unsigned requests. */
  unsigned(route: Route): boolean;
}

export function routeSecrets(env: NodeJS.ProcessEnv, allowUnsigned: readonly Route[]): RouteSecrets {
  return {
    secret: (route) => env[SECRET_ENV[route]] || undefined,
    unsigned: (route) => allowUnsigned.includes(route) && !env[SECRET_ENV[route]],
  };
}

/** Checks a delivery's signature on its raw bytes, as its route's sender signs it. */
export function verifyDelivery(route: Route, body: Buffer, headers: Headers, secrets: RouteSecrets, now: Date): Verdict {
  if (secrets.unsigned(route)) return { ok: true };
  const secret = secrets.secret(route);
  if (secret === undefined) return { ok: false, reason: `the route has no secret (${SECRET_ENV[route]} is not set)` };
  if (route === 'github') return verifyGithub(body, header(headers, 'x-hub-signature-256'), secret);
  if (route === 'linear') return verifyLinear(body, header(headers, 'linear-signature'), secret);
  return verifyStandard(
    body,
    { id: header(headers, 'webhook-id'), timestamp: header(headers, 'webhook-timestamp'), signature: header(headers, 'webhook-signature') },
    secret,
    now,
  );
}

/** A delivery to store: the event as `trig fire` would be given it. */
export interface Delivery {
  route: Route;
  /** The catalog event, or undefined for a Linear delivery no catalog event stands for (recorded, starts nothing). */
  event: string | undefined;
  /** What the delivery is recorded as (the event, or `linear`). */
  name: string;
  deliveryKey: string;
  payload: Record<string, unknown>;
  /** The JSON text the payload was parsed from, stored as it is (none for an empty body). */
  payloadJson?: string;
  /** The request headers kept with it, for replaying it (never a signature). */
  headers: Record<string, string>;
}

/** Headers kept with an HTTP delivery: what says what it is; never its signature. */
const KEPT_HEADERS: Readonly<Record<Route, readonly string[]>> = {
  github: [
    'x-github-event',
    'x-github-delivery',
    'x-github-hook-id',
    'x-github-hook-installation-target-id',
    'x-github-hook-installation-target-type',
  ],
  linear: ['linear-delivery', 'linear-event'],
  standard: ['webhook-id', 'webhook-timestamp'],
};

const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The delivery a verified request carries, or the answer that refuses it (400 malformed,
 * 401 a Linear timestamp out of bounds, 200 a GitHub ping or an event no definition can
 * listen to). Called only after verifyDelivery said yes.
 */
export function readDelivery(
  route: Route,
  routeEvent: string | undefined,
  body: Buffer,
  headers: Headers,
  now: Date,
  maxBytes: number,
): Delivery | Answer {
  const key = header(headers, DELIVERY_HEADER[route]);
  const headerName = { github: 'X-GitHub-Delivery', linear: 'Linear-Delivery', standard: 'webhook-id' }[route];
  if (key === undefined) return error(400, `missing ${headerName} header`);
  if (!DELIVERY_ID.test(key)) return error(400, `malformed ${headerName} header (expected 1 to 200 printable characters, no spaces)`);

  let event = routeEvent;
  if (route === 'github') {
    event = header(headers, 'x-github-event');
    if (event === undefined) return error(400, 'missing X-GitHub-Event header');
    if (event === 'ping') return { status: 200, body: { ping: true }, reason: 'ping' };
  }

  let text = body.toString('utf8');
  if (route === 'github' && mediaType(headers) === FORM_TYPE) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) return error(400, 'the form-encoded body has no payload field');
    text = payload;
  }
  let payload: Record<string, unknown>;
  try {
    payload = parsePayload(text, 'body', maxBytes);
  } catch (problem) {
    if (problem instanceof PayloadError) return error(400, oneLine(problem.message));
    throw problem;
  }

  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS[route]) {
    const value = header(headers, name);
    if (value !== undefined) kept[name] = oneLine(value).slice(0, 200);
  }

  if (route === 'github' && !eventSpec(event!)) {
    // GitHub sends every event a hook subscribes to; one outside the catalog starts nothing.
    return {
      status: 200,
      body: { ignored: true, reason: `no definition can listen to "${oneLine(event!)}" (not in the event list)` },
      reason: `event ${oneLine(event!)} is not in the event list`,
    };
  }
  if (route === 'linear') {
    const fresh = linearTimestamp(payload, now);
    if (!fresh.ok) return error(401, fresh.reason);
    const comment = linearCommentBody(payload);
    event = comment !== undefined && mentionedNames(comment).length ? 'comment_mention' : undefined;
    const type = typeof payload.type === 'string' ? oneLine(payload.type).slice(0, 100) : undefined;
    if (type !== undefined) kept['linear-type'] = type;
  }
  return { route, event, name: event ?? 'linear', deliveryKey: key, payload, ...(text.trim() ? { payloadJson: text } : {}), headers: kept };
}
