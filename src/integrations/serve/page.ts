// trig serve's page for people: `GET /` (the gates that wait, recent runs and events),
// `GET /runs/<id>` (a run, its steps, its masked log) and `POST /gates/<id>/approve|reject`
// (a decision, through the same code as `trig approve`, recorded as from `http`). The
// HTML is page-html.ts; this is who may see it and act on it.
//
// Who may: on loopback (and TRIG_UI_TOKEN unset) anyone who reaches the page by a
// loopback name, since only this machine's users can; otherwise the one who shows
// TRIG_UI_TOKEN (Authorization: Bearer, or once `?token=`, which leaves it in an HttpOnly,
// SameSite=Strict cookie). A Host that is not a loopback name is refused on the open page,
// or a web page whose name resolves to 127.0.0.1 (DNS rebinding) could read it and take
// its form token. A decision also needs the page's form token (a random one per process,
// compared in constant time) and no sign of another site (Sec-Fetch-Site, Origin), so a
// page elsewhere cannot make a visitor's browser decide (CSRF).
//
// A decision is answered 303 to `/` once it is recorded (its run's status is already
// `running` then); an approved run is carried on in trig serve's run thread, the way it
// runs deliveries: the answer never waits for a run.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';
import { UsageError } from '../../shared/errors.js';
import { oneLine } from '../../shared/printable.js';
import { DONE } from '../../fire/gates.js';
import type { GateOutcome, GateVerdict, Store, StoredGate } from '../../store/store.js';
import { readBody } from './body.js';
import type { PageDecision } from './runner-protocol.js';
import { CSP, decidedNotice, renderHome, renderMessage, renderRun, type Notice } from './page-html.js';

/** The variable holding the token the page asks for off loopback. */
export const UI_TOKEN_ENV = 'TRIG_UI_TOKEN';
/** Shorter tokens are refused: the page can start runs. */
const MIN_TOKEN_LENGTH = 16;
/** The cookie a `?token=` visit leaves. */
const COOKIE = 'trig_ui';
/** A decision's form is a name, a comment and the form token: a few KiB at most. */
export const FORM_MAX_BYTES = 16 * 1024;
const MAX_NAME = 200;
const MAX_COMMENT = 1000;
/** How many runs and events the page lists. */
export const PAGE_RUNS = 30;
export const PAGE_EVENTS = 20;

const GATE_PATH = /^\/gates\/([0-9a-f]{1,64})\/(approve|reject|retry|ignore|abort)$/;
const RUN_PATH = /^\/runs\/([0-9a-f]{1,64})$/;

/** Who may use the page: with a token, whoever shows it; without, anyone on loopback. */
export interface PageAccess {
  token?: string;
}

/** Whether an address (or `localhost`) is on loopback: only this machine can reach it. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Checked at start, before anything listens: on an address other than loopback the page
 * needs TRIG_UI_TOKEN (or --no-page), and a token too short to resist guessing is refused.
 */
export function pageAccess(host: string, env: NodeJS.ProcessEnv): PageAccess {
  const token = env[UI_TOKEN_ENV] || undefined;
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /[\p{Cc}\s]/u.test(token)))
    throw new UsageError(
      `${UI_TOKEN_ENV}: expected at least ${MIN_TOKEN_LENGTH} characters on one line without spaces (openssl rand -hex 16 makes one)`,
    );
  if (token === undefined && !isLoopback(host))
    throw new UsageError(
      `--host ${oneLine(host)} is not a loopback address: set ${UI_TOKEN_ENV} for the page at /, or give --no-page to serve the webhooks only`,
    );
  return token === undefined ? {} : { token };
}

/** Whether two secrets are equal, in time that depends on neither (both are hashed to one length first). */
export function sameSecret(given: string | undefined | null, expected: string): boolean {
  if (given === undefined || given === null) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

type Headers = IncomingMessage['headers'];

/** A Host header's host and port as URL normalises them (lower case, no default port); undefined when it is not a plain name or address. */
function hostOf(value: string | undefined): string | undefined {
  // Nothing URL would read as user info, path or query (`evil@127.0.0.1` is not 127.0.0.1).
  if (!value || !/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i.test(value)) return undefined;
  try {
    return new URL(`http://${value}`).host;
  } catch {
    return undefined;
  }
}

/**
 * Why a form post does not come from the page itself, if it does not: a browser says where
 * a request comes from (Sec-Fetch-Site, Origin); a client that says nothing (curl) is
 * judged by the form token alone.
 */
export function crossSiteReason(headers: Headers): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site: ${oneLine(String(site))}`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let from: string | undefined;
  try {
    from = origin === 'null' ? undefined : new URL(origin).host;
  } catch {
    from = undefined;
  }
  const host = hostOf(headers.host);
  if (from === undefined || host === undefined || from !== host) return `Origin ${oneLine(origin)} is not this page's`;
  return undefined;
}

/** The value of one cookie, or undefined. */
function cookie(headers: Headers, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The server's user: whom the name field suggests (the person deciding may write another). */
function serverUser(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry for this uid (a container): the environment may still say.
    return env.USER ?? env.LOGNAME ?? '';
  }
}

/** What serve's lifecycle lends the page: runs carried on after a decision are its background tasks. */
export interface PageDeps {
  store: Store;
  now(): Date;
  env: NodeJS.ProcessEnv;
  access: PageAccess;
  quiet: boolean;
  stopping(): boolean;
  /**
   * Records a decision (in trig serve's run thread, which carries an approved run on);
   * resolves once it is recorded, or with 'stopping' when trig serve began to stop first.
   */
  decide(request: PageDecision): Promise<GateOutcome | 'stopping'>;
  /** The form token (tests); random per process otherwise. */
  csrf?: string;
}

/** What a page request came to, for serve's log line (never a token, never a name's text beyond one line). */
export interface PageResult {
  status: number;
  result?: string;
  gate?: string;
  verdict?: GateVerdict;
}

export interface Page {
  /** Whether the path is the page's. */
  owns(pathname: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<PageResult>;
}

const BASE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // The page's address (a run id) stays on the page; not no-referrer, under which a browser
  // sends `Origin: null` with the page's own form posts, and crossSiteReason refuses those.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

function sendHtml(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { ...BASE_HEADERS, Location: location, 'Content-Length': '0', ...headers });
  res.end();
}

/** Why a decision was refused, as an HTTP status: unknown 404, not this person's to make 403, too late 409. */
function refusalStatus(gate: StoredGate | undefined, by: string, now: Date): number {
  if (!gate) return 404;
  if (gate.outcome !== null || gate.runStatus !== 'awaiting_approval' || gate.deadline <= now) return 409;
  if (gate.settings.approvers.length && !gate.settings.approvers.includes(by)) return 403;
  return 409;
}

export function createPage(deps: PageDeps): Page {
  const csrf = deps.csrf ?? randomBytes(32).toString('base64url');
  const defaultName = serverUser(deps.env);
  const { store, access } = deps;

  const home = async (status: number, res: ServerResponse, notice?: Notice): Promise<PageResult> => {
    const [runs, events, gates] = await Promise.all([
      store.listRuns({ limit: PAGE_RUNS }),
      store.listEvents({ limit: PAGE_EVENTS }),
      store.listGates(),
    ]);
    sendHtml(res, status, renderHome({ now: deps.now(), csrf, defaultName, runs, events, gates, ...(notice ? { notice } : {}) }));
    return { status, ...(notice?.kind === 'error' ? { result: notice.text } : {}) };
  };
  const message = (res: ServerResponse, status: number, title: string, text: string, headers?: Record<string, string>): PageResult => {
    sendHtml(res, status, renderMessage(title, { kind: 'error', text }), headers);
    return { status, result: text };
  };

  /** Whether the request may see the page; when not, it has been answered. */
  const admitted = (req: IncomingMessage, res: ServerResponse, url: URL): PageResult | undefined => {
    if (access.token === undefined) {
      const host = hostOf(req.headers.host);
      if (host !== undefined && isLoopback(new URL(`http://${host}`).hostname)) return undefined;
      return message(
        res,
        403,
        'Not here',
        `this page answers to a loopback name only (localhost, 127.0.0.1, [::1]); set ${UI_TOKEN_ENV} to reach it by another name`,
      );
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (sameSecret(bearer, access.token) || sameSecret(cookie(req.headers, COOKIE), access.token)) return undefined;
    const query = url.searchParams.get('token');
    if (query !== null && req.method === 'GET' && sameSecret(query, access.token)) {
      // The token leaves the address bar (and the history) at once; the cookie carries it on.
      redirect(res, url.pathname, { 'Set-Cookie': `${COOKIE}=${encodeURIComponent(access.token)}; Path=/; HttpOnly; SameSite=Strict` });
      return { status: 303, result: 'token taken' };
    }
    return message(
      res,
      401,
      'Token needed',
      `this page needs ${UI_TOKEN_ENV}: open /?token=<the token> once, or send Authorization: Bearer <the token>`,
      { 'WWW-Authenticate': 'Bearer' },
    );
  };

  const stoppingAnswer = (res: ServerResponse): PageResult =>
    message(res, 503, 'Stopping', 'trig serve is stopping: nothing was decided; try again once it is back', {
      'Retry-After': '5',
      Connection: 'close',
    });

  const showRun = async (res: ServerResponse, id: string): Promise<PageResult> => {
    const found = await store.findRun(id);
    if ('missing' in found) return message(res, 404, 'No such run', found.missing);
    const run = found.found;
    sendHtml(res, 200, renderRun({ now: deps.now(), run, log: await store.readLog(run.id) }));
    return { status: 200 };
  };

  const post = async (req: IncomingMessage, res: ServerResponse, gateId: string, verdict: GateVerdict): Promise<PageResult> => {
    const ours = { gate: gateId, verdict };
    const crossSite = crossSiteReason(req.headers);
    if (crossSite) {
      req.resume();
      return { ...message(res, 403, 'Refused', `a decision must come from this page (${crossSite})`), ...ours };
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume();
      return { ...message(res, 415, 'Refused', 'a decision is a form post (application/x-www-form-urlencoded)'), ...ours };
    }
    const body = await readBody(req, FORM_MAX_BYTES);
    if (body === 'aborted') return { status: 400, result: 'aborted', ...ours };
    if (body === 'too large') {
      res.on('finish', () => req.socket.destroy());
      return { ...message(res, 413, 'Refused', `the form is larger than ${FORM_MAX_BYTES} bytes`, { Connection: 'close' }), ...ours };
    }
    let form: URLSearchParams;
    try {
      form = new URLSearchParams(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      return { ...message(res, 400, 'Refused', 'the form is not UTF-8'), ...ours };
    }
    if (!sameSecret(form.get('csrf'), csrf)) {
      const notice =
        'the form token is missing or wrong (a page from before trig serve restarted?): nothing was decided; decide again here';
      return { ...(await home(403, res, { kind: 'error', text: notice })), ...ours };
    }
    const by = (form.get('by') ?? '').trim();
    const comment = (form.get('comment') ?? '').trim();
    const bad =
      !by || by.length > MAX_NAME || /\p{Cc}/u.test(by)
        ? `the name must be one line of 1 to ${MAX_NAME} characters`
        : comment.length > MAX_COMMENT
          ? `the comment must be at most ${MAX_COMMENT} characters`
          : undefined;
    if (bad) return { ...(await home(400, res, { kind: 'error', text: bad })), ...ours };

    const found = await store.findGate(gateId);
    if ('missing' in found) return { ...(await home(404, res, { kind: 'error', text: found.missing })), ...ours };
    const outcome = await deps.decide({
      gate: found.found.id,
      verdict,
      by,
      ...(comment ? { comment } : {}),
      from: 'http',
      quiet: deps.quiet,
    });
    if (outcome === 'stopping') return { ...stoppingAnswer(res), ...ours };
    if ('refused' in outcome) {
      const now = await store.findGate(found.found.id);
      const status = refusalStatus('found' in now ? now.found : undefined, by, deps.now());
      return { ...(await home(status, res, { kind: 'error', text: outcome.refused })), ...ours };
    }
    // Post/Redirect/Get: a reload shows the page again rather than posting twice.
    redirect(res, `/?decided=${found.found.id}`);
    const result =
      'approved' in outcome ? 'approved' : 'rejected' in outcome ? 'rejected' : 'intervened' in outcome ? DONE[verdict] : 'recorded';
    return { status: 303, result, ...ours };
  };

  return {
    owns: (pathname) => pathname === '/' || pathname.startsWith('/runs/') || pathname.startsWith('/gates/'),
    async handle(req, res, url) {
      const denied = admitted(req, res, url);
      if (denied) {
        req.resume();
        return denied;
      }
      // As every route: no new request is taken once trig serve stops.
      if (deps.stopping()) {
        req.resume();
        return stoppingAnswer(res);
      }
      const method = req.method ?? '';
      const gate = GATE_PATH.exec(url.pathname);
      if (gate) {
        if (method !== 'POST') {
          req.resume();
          return message(res, 405, 'Refused', `${oneLine(method)} is not allowed here; the page's buttons POST`, { Allow: 'POST' });
        }
        return post(req, res, gate[1]!, gate[2] as GateVerdict);
      }
      req.resume();
      if (method !== 'GET' && method !== 'HEAD')
        return message(res, 405, 'Refused', `${oneLine(method)} is not allowed here; use GET`, { Allow: 'GET, HEAD' });
      if (url.pathname === '/') {
        const decided = /^[0-9a-f]{1,64}$/.exec(url.searchParams.get('decided') ?? '')?.[0];
        const gate = decided ? await store.findGate(decided) : undefined;
        return home(200, res, gate && 'found' in gate ? decidedNotice(gate.found) : undefined);
      }
      const run = RUN_PATH.exec(url.pathname);
      if (run) return showRun(res, run[1]!);
      return message(res, 404, 'Not found', `no page ${oneLine(url.pathname)} (pages: /, /runs/<id>)`);
    },
  };
}
