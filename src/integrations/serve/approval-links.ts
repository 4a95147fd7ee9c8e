// The approval links of trig serve: /approvals/<gate>/approve?token=… and …/reject?token=….
// GET answers a confirmation page and decides nothing: chat and mail clients fetch links to
// preview them, and a preview must never approve. The page's form POSTs to the same URL
// with the token in the body; the POST decides through the fire core (decideByLink, the same
// store call as trig approve), and an approved run is carried on by serve in the background:
// the answer never waits for the run.
//
// The token is a secret in the URL: it is never logged (the log names the route, not the
// query), and the pages tell browsers not to send it on (Referrer-Policy) or cache it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LinkOutcome } from '../../fire/approvals.js';
import { escapeHtml } from '../../shared/html.js';
import { readBody } from './body.js';
import { oneLine } from '../../shared/printable.js';
import type { ClaimedRun, Store, StoredGate } from '../../store/store.js';

const PATH = /^\/approvals\/([^/]+)\/(approve|reject)$/;
/** A form holds a token, a name and a comment: this is plenty. */
const FORM_LIMIT = 16 * 1024;

export function isApprovalPath(pathname: string): boolean {
  return pathname.startsWith('/approvals/');
}

export interface ApprovalLinksContext {
  store: Store;
  now(): Date;
  log(fields: Record<string, unknown>): void;
  /** Carries an approved run on outside the request (serve's pool of background work). */
  carryOn(claimed: ClaimedRun): void;
  stopping(): boolean;
}

const HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}dt{font-weight:bold}label{display:block;margin:.5em 0}input[type=text]{width:100%}</style>
</head><body>
${body}
</body></html>
`;
}

function answer(res: ServerResponse, status: number, title: string, body: string): void {
  const html = page(title, body);
  res.writeHead(status, { ...HEADERS, 'Content-Length': Buffer.byteLength(html), ...(status === 405 ? { Allow: 'GET, POST' } : {}) });
  res.end(res.req.method === 'HEAD' ? undefined : html);
}

/** One line, the reason, as a page. */
function refusal(res: ServerResponse, status: number, reason: string): void {
  answer(res, status, 'trig: not done', `<h1>Not done</h1>\n<p>${escapeHtml(oneLine(reason))}</p>`);
}

function facts(gate: StoredGate): string {
  const row = (name: string, value: string) => `<dt>${name}</dt><dd>${escapeHtml(oneLine(value))}</dd>`;
  return `<dl>
${row('Message', gate.message ?? '(none)')}
${row('Definition', gate.definition)}
${row('Run', `${gate.runId} (event ${gate.eventName}, at ${gate.step})`)}
${row('Deadline', `${gate.deadline.toISOString()}, then ${gate.settings.timeoutAction}`)}
</dl>`;
}

function confirmation(gate: StoredGate, verdict: string, name: string, token: string): string {
  const verb = verdict === 'approve' ? 'Approve' : 'Reject';
  const who = name
    ? `<p>As <strong>${escapeHtml(oneLine(name))}</strong> (this link is yours alone and works once).</p>`
    : `<label>Your name <input type="text" name="name" required maxlength="200" autocomplete="name"></label>`;
  return `<h1>${verb} gate ${escapeHtml(gate.id)}?</h1>
${facts(gate)}
<form method="post">
<input type="hidden" name="token" value="${escapeHtml(token)}">
${who}
<label>Comment (optional) <input type="text" name="comment" maxlength="1000"></label>
<button type="submit">${verb}</button>
</form>`;
}

function done(outcome: Extract<LinkOutcome, { status: 200 }>, verdict: string): string {
  const o = outcome.outcome;
  // A link decides an approval only (a manual intervention has no links): `intervened` is not expected here.
  const gate = 'waiting' in o ? o.waiting : 'rejected' in o ? o.rejected : 'approved' in o ? o.approved : o.intervened;
  const word = verdict === 'approve' ? 'Approved' : 'Rejected';
  const what =
    'rejected' in o
      ? `Run ${gate.runId} ends rejected.`
      : 'waiting' in o
        ? `${gate.decisions.filter((d) => d.verdict === 'approve').length} of ${gate.settings.minApprovers} approvals: the run still waits.`
        : `The run goes on (trig serve carries it on; trig runs shows it).`;
  return `<h1>${word} gate ${escapeHtml(gate.id)} as ${escapeHtml(oneLine(outcome.by))}</h1>\n<p>${escapeHtml(what)}</p>\n${facts(gate)}`;
}

/** Answers a request under /approvals/. */
export async function handleApprovalLink(req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApprovalLinksContext): Promise<void> {
  const started = performance.now();
  const match = PATH.exec(url.pathname);
  const gateId = match?.[1] ?? '';
  const verdict = (match?.[2] ?? 'approve') as 'approve' | 'reject';
  const entry = { kind: 'approval-link', route: '/approvals', gate: oneLine(gateId).slice(0, 40), verdict, method: req.method };
  // Never the token: it is a secret.
  const logged = (status: number, extra: Record<string, unknown> = {}) =>
    ctx.log({ ...entry, status, ...extra, durationMs: Math.round(performance.now() - started) });
  if (!match) {
    req.resume();
    logged(404);
    return refusal(res, 404, 'no such page: approval links look like /approvals/<gate>/approve?token=…');
  }
  const method = req.method ?? '';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    req.resume();
    logged(405);
    return refusal(res, 405, `${method} is not allowed here; use GET (to see) or POST (to decide)`);
  }
  if (ctx.stopping()) {
    req.resume();
    logged(503);
    return refusal(res, 503, 'trig serve is stopping; try again in a moment');
  }
  const { checkLink, decideByLink } = await import('../../fire/approvals.js');
  if (method !== 'POST') {
    const token = url.searchParams.get('token') ?? '';
    const checked = await checkLink(ctx.store, gateId, token);
    logged(checked.status);
    if (checked.status !== 200) return refusal(res, checked.status, checked.reason);
    return answer(res, 200, `trig: ${verdict} gate ${checked.gate.id}?`, confirmation(checked.gate, verdict, checked.token.name, token));
  }
  // The form's fields (token, name, comment), bounded as the page's are.
  const body = await readBody(req, FORM_LIMIT);
  if (body === 'aborted') return;
  if (body === 'too large') {
    res.on('finish', () => req.socket.destroy());
    logged(413);
    return refusal(res, 413, `the form is larger than ${FORM_LIMIT} bytes`);
  }
  const form = new URLSearchParams(body.toString('utf8'));
  const name = form.get('name');
  const comment = form.get('comment');
  const outcome = await decideByLink(ctx.store, {
    gate: gateId,
    token: form.get('token') ?? url.searchParams.get('token') ?? '',
    verdict,
    ...(name !== null ? { name } : {}),
    ...(comment !== null ? { comment } : {}),
    now: ctx.now(),
  });
  if (outcome.status !== 200) {
    logged(outcome.status, { reason: outcome.reason });
    return refusal(res, outcome.status, outcome.reason);
  }
  logged(200, { by: oneLine(outcome.by), outcome: Object.keys(outcome.outcome)[0] });
  answer(res, 200, `trig: gate ${gateId}`, done(outcome, verdict));
  // After the answer: the run is serve's to carry on, not the request's.
  if (outcome.claimed) ctx.carryOn(outcome.claimed);
}
