// The HTML of trig serve's page (page.ts routes it): pure functions from stored records to
// text. Run names, messages, comments and logs come from definitions and payloads anyone
// may have written, so every value goes through the `markup` template, which escapes what
// it interpolates unless it is markup this module made itself: forgetting to escape takes
// effort. The page needs no script at all, and its one inline style is allowed by its
// hash in the Content-Security-Policy (CSP below), so an injected tag could run nothing.
// (The tag is not called `html`: Prettier would reformat such templates, whitespace and all.)

import { createHash } from 'node:crypto';
import { approvalsText, DONE, timeLeft } from '../../fire/gates.js';
import { formatDuration } from '../../shared/duration.js';
import { escapeHtml } from '../../shared/html.js';
import { oneLine } from '../../shared/printable.js';
import { droppedText, formatTime, logLineText, runDurationMs, runResult } from '../../store/show.js';
import {
  ACTIVE_STATUSES,
  type GateVerdict,
  type StoredEvent,
  type StoredGate,
  type StoredLogLine,
  type StoredRun,
} from '../../store/store.js';

/** Markup made here: interpolated as it is. Anything else is text, escaped. */
export class Markup {
  constructor(readonly text: string) {}
}

type Value = string | number | Markup | readonly Markup[] | null | undefined | false;

/** Markup with its values escaped (a Markup value, or a list of them, is taken as it is; null, undefined and false are left out). */
export function markup(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let out = strings[0]!;
  values.forEach((value, i) => {
    if (value instanceof Markup) out += value.text;
    else if (Array.isArray(value)) out += value.map((v: Markup) => v.text).join('');
    else if (value !== null && value !== undefined && value !== false) out += escapeHtml(String(value));
    out += strings[i + 1]!;
  });
  return new Markup(out);
}

/** Someone else's text on one line: control characters and line breaks shown as escapes, as trig's terminal output shows them. */
const line = (text: string) => oneLine(text);

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1f2328;background:#fff}
h1{font-size:1.3rem;margin:0 0 .3rem}h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d1d9e0;vertical-align:top}
th{font-weight:600;background:#f6f8fa}
code,pre,.id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.notice{padding:.5rem .75rem;border:1px solid;border-radius:6px;margin:.5rem 0 1rem}
.error{background:#ffebe9;border-color:#ff8182}.ok{background:#dafbe1;border-color:#4ac26b}
.status{font-weight:600}.succeeded{color:#1a7f37}
.failed,.timed_out,.lost,.rejected,.blocked{color:#cf222e}
.running,.queued,.retrying,.waiting{color:#9a6700}.awaiting_approval{color:#8250df}
form{display:flex;gap:.4rem;flex-wrap:wrap;align-items:center;margin:0}
input{font:inherit;padding:.15rem .3rem}button{font:inherit;padding:.2rem .7rem;cursor:pointer}
.muted{color:#59636e}.t,.id{white-space:nowrap}
`;

/** The page's Content-Security-Policy: nothing but its own style, forms posted to itself, never framed. */
export const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** A one-line message at the top of a page: why a decision was refused, or what it did. */
export interface Notice {
  kind: 'error' | 'ok';
  text: string;
}

function page(title: string, body: Markup, notice?: Notice): string {
  const said = notice
    ? markup`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${line(notice.text)}</p>\n`
    : null;
  // The style element holds STYLE exactly: the CSP allows it by its hash.
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<style>${new Markup(STYLE)}</style>
</head>
<body>
${said}${body}
</body>
</html>
`.text;
}

const status = (s: string) => markup`<span class="status ${s}">${s}</span>`;
const runLink = (id: string) => markup`<a class="id" href="/runs/${id}">${id}</a>`;

function duration(run: StoredRun, now: Date): string {
  const ms = runDurationMs(run, now.getTime());
  return ms === null ? '-' : formatDuration(ms);
}

function runsTable(runs: readonly StoredRun[], now: Date): Markup {
  if (!runs.length) return markup`<p class="muted">No runs recorded yet.</p>`;
  const rows = runs.map(
    (run) => markup`<tr>
<td>${runLink(run.id)}</td><td>${status(run.status)}</td><td>${line(run.definition)}</td><td>${line(run.eventName)}</td>
<td class="t">${formatTime(run.startedAt ?? run.queuedAt)}</td><td class="t">${duration(run, now)}</td><td>${runResult(run)}</td>
</tr>
`,
  );
  return markup`<table id="runs">
<thead><tr><th>Run</th><th>Status</th><th>Definition</th><th>Event</th><th>Started</th><th>Duration</th><th>Result</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
}

function eventsTable(events: readonly StoredEvent[], statuses: ReadonlyMap<string, string>): Markup {
  if (!events.length) return markup`<p class="muted">No events recorded yet.</p>`;
  const rows = events.map((event) => {
    const runs = event.runs.map((id) => {
      const known = statuses.get(id);
      return markup`${runLink(id)}${known ? markup` ${status(known)}` : null} `;
    });
    const started = !event.dispatched
      ? markup`<span class="muted">not decided yet</span>`
      : runs.length
        ? runs
        : markup`<span class="muted">no runs</span>`;
    return markup`<tr>
<td class="id">${event.id}</td><td class="t">${formatTime(event.at)}</td><td>${line(event.name)}</td><td>${event.source}</td>
<td>${event.deliveryKey === null ? '' : line(event.deliveryKey)}</td><td>${started}</td>
</tr>
`;
  });
  return markup`<table id="events">
<thead><tr><th>Event</th><th>Received</th><th>Name</th><th>From</th><th>Delivery</th><th>Runs</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
}

function gateForm(gate: StoredGate, csrf: string, defaultName: string): Markup {
  // One form, a button per decision: each posts the same fields to its own path (formaction), no script needed.
  const [first, ...others] = gate.settings.kind === 'intervention' ? INTERVENTION_BUTTONS : APPROVAL_BUTTONS;
  const buttons = others.map(
    ([verdict, label]) => markup`<button type="submit" formaction="/gates/${gate.id}/${verdict}">${label}</button>`,
  );
  return markup`<form method="post" action="/gates/${gate.id}/${first![0]}">
<input type="hidden" name="csrf" value="${csrf}">
<label>Name <input name="by" value="${defaultName}" required maxlength="200" size="10"></label>
<label>Comment <input name="comment" maxlength="1000" size="14"></label>
<button type="submit">${first![1]}</button>
${buttons}</form>`;
}

const APPROVAL_BUTTONS: readonly [GateVerdict, string][] = [
  ['approve', 'Approve'],
  ['reject', 'Reject'],
];
/** A failed step that waits for manual intervention: run it again, let its failure go, or end the run. */
const INTERVENTION_BUTTONS: readonly [GateVerdict, string][] = [
  ['retry', 'Retry'],
  ['ignore', 'Ignore'],
  ['abort', 'Abort'],
];

function gatesTable(gates: readonly StoredGate[], now: Date, csrf: string, defaultName: string): Markup {
  if (!gates.length) return markup`<p class="muted">No run waits for a decision.</p>`;
  const rows = gates.map((gate) => {
    const approvers = gate.settings.approvers;
    const who = approvers.length ? markup`<br><span class="muted">approvers: ${approvers.map(line).join(', ')}</span>` : null;
    return markup`<tr id="gate-${gate.id}">
<td class="id">${gate.id}</td><td>${runLink(gate.runId)}</td><td>${line(gate.definition)}</td><td>${line(gate.step)}</td>
<td>${line(gate.message ?? '')}</td><td>${approvalsText(gate)}${who}</td>
<td class="t">${timeLeft(gate, now)}, then ${gate.settings.timeoutAction}</td>
<td>${gateForm(gate, csrf, defaultName)}</td>
</tr>
`;
  });
  return markup`<table id="gates">
<thead><tr><th>Gate</th><th>Run</th><th>Definition</th><th>At</th><th>Message</th><th>Approvals</th><th>Time left</th><th>Decide</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
}

/** What a decision just did, said on the page it leads back to (from the gate as stored now). */
export function decidedNotice(gate: StoredGate): Notice {
  const head = `gate ${gate.id} (run ${gate.runId}, ${line(gate.definition)})`;
  if (gate.outcome === 'rejected') return { kind: 'ok', text: `${head} rejected: the run ends rejected` };
  if (gate.outcome === 'approved') return { kind: 'ok', text: `${head} approved: the run goes on` };
  if (gate.outcome === 'abort') return { kind: 'ok', text: `${head} aborted: the run ends failed` };
  if (gate.outcome !== null) return { kind: 'ok', text: `${head} ${DONE[gate.outcome]}: the run goes on` };
  return { kind: 'ok', text: `${head}: ${approvalsText(gate)} approvals; the run still waits` };
}

export interface HomeView {
  now: Date;
  /** The token every form carries (page.ts checks it). */
  csrf: string;
  /** The name field's default. */
  defaultName: string;
  runs: readonly StoredRun[];
  events: readonly StoredEvent[];
  gates: readonly StoredGate[];
  notice?: Notice;
}

/** `/`: the gates that wait (with their forms), the recent runs, the recent events. */
export function renderHome(view: HomeView): string {
  const statuses = new Map(view.runs.map((run) => [run.id, run.status]));
  const body = markup`<h1>trig serve</h1>
<p class="muted">As of ${formatTime(view.now)} · <a href="/">reload</a></p>
<h2>Waiting for a decision</h2>
${gatesTable(view.gates, view.now, view.csrf, view.defaultName)}
<h2>Recent runs</h2>
${runsTable(view.runs, view.now)}
<h2>Recent events</h2>
${eventsTable(view.events, statuses)}`;
  return page('trig serve', body, view.notice);
}

export interface RunView {
  now: Date;
  run: StoredRun;
  log: readonly StoredLogLine[];
}

/** `/runs/<id>`: a run, its steps, and its stored log (masked when it was stored). */
export function renderRun({ now, run, log }: RunView): string {
  const steps = run.steps.map(
    (step) => markup`<tr>
<td>${line(step.stage)}</td><td>${step.name === null ? '' : line(step.name)}</td><td>${status(step.status)}</td>
<td>${step.exitCode ?? ''}</td><td>${formatDuration(step.durationMs)}</td>
<td>${step.attempts ? step.attempts.length : ''}</td><td>${step.reason ? line(step.reason) : ''}</td>
</tr>
`,
  );
  const stepsTable = steps.length
    ? markup`<table id="steps">
<thead><tr><th>Stage</th><th>Step</th><th>Status</th><th>Exit</th><th>Duration</th><th>Tries</th><th>Reason</th></tr></thead>
<tbody>
${steps}</tbody>
</table>`
    : markup`<p class="muted">No step has ended yet.</p>`;
  const text = (run.logDroppedBytes ? droppedText(run) : '') + log.map((l) => logLineText(run, l)).join('');
  const going = ACTIVE_STATUSES.includes(run.status)
    ? markup`<p class="muted">The run is not over: <a href="/runs/${run.id}">reload</a> for more.</p>\n`
    : null;
  const body = markup`<p><a href="/">← trig serve</a></p>
<h1>Run <span class="id">${run.id}</span> ${status(run.status)}</h1>
<table id="run">
<tr><th>Definition</th><td>${line(run.definition)} <span class="muted">${line(run.file)}</span></td></tr>
<tr><th>Event</th><td>${line(run.eventName)} <span class="id muted">${run.eventId}</span></td></tr>
<tr><th>Queued</th><td>${formatTime(run.queuedAt)}</td></tr>
<tr><th>Started</th><td>${run.startedAt ? formatTime(run.startedAt) : '-'}</td></tr>
<tr><th>Duration</th><td>${duration(run, now)}</td></tr>
<tr><th>Result</th><td>${runResult(run)}</td></tr>
</table>
<h2>Steps</h2>
${stepsTable}
<h2>Log</h2>
${going}${text ? markup`<pre id="log">${text}</pre>` : markup`<p class="muted">Nothing logged.</p>`}`;
  return page(`run ${run.id}`, body);
}

/** A page that only says something: no access, no such run. */
export function renderMessage(title: string, notice: Notice): string {
  return page(title, markup`<h1>${title}</h1>\n<p><a href="/">trig serve</a></p>`, notice);
}
