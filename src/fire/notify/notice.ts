// What every channel tells about a gate: the same facts and the same links, so that the
// channels differ only in their protocol. With TRIG_PUBLIC_URL set (the `trig serve` address
// as approvers reach it), each approver gets a pair of links carrying a token of their own;
// without it there is nothing to link to, and the notification gives the commands instead.

import { oneLine } from '../../shared/printable.js';
import type { StoredGate } from '../../store/store.js';

export const PUBLIC_URL_ENV = 'TRIG_PUBLIC_URL';

export interface ApproverLinks {
  /** The approver the links stand for; null: anyone (the person names themselves on the page). */
  approver: string | null;
  approve: string;
  reject: string;
}

export interface GateNotice {
  gate: StoredGate;
  /** Empty without TRIG_PUBLIC_URL. */
  links: ApproverLinks[];
  commands: { approve: string; reject: string };
  /** One line: what people are asked. */
  subject: string;
  /** Plain text for people: the message, the run, the deadline, the links or the commands. */
  text: string;
}

/** The links' base: TRIG_PUBLIC_URL without a trailing slash, if it is an http(s) URL. */
export function publicBase(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[PUBLIC_URL_ENV];
  if (!value) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** An approver's pair of links to `trig serve`. */
export function linksFor(base: string, gateId: string, approver: string | null, token: string): ApproverLinks {
  const at = (verdict: string) => `${base}/approvals/${gateId}/${verdict}?token=${encodeURIComponent(token)}`;
  return { approver, approve: at('approve'), reject: at('reject') };
}

export function gateNotice(gate: StoredGate, links: ApproverLinks[]): GateNotice {
  const commands = { approve: `trig approve ${gate.id}`, reject: `trig reject ${gate.id}` };
  const asked = oneLine(gate.message ?? `approve the run of ${gate.definition}?`);
  const subject = `Approval needed: ${oneLine(gate.definition)} (gate ${gate.id})`;
  const { settings } = gate;
  const text = [
    asked,
    '',
    `Definition: ${oneLine(gate.definition)} (${oneLine(gate.file)})`,
    `Run: ${gate.runId}, event ${oneLine(gate.eventName)}, waiting at ${oneLine(gate.step)}`,
    `Approvals needed: ${settings.minApprovers}${settings.approvers.length ? ` of ${settings.approvers.map((a) => oneLine(a)).join(', ')}` : ''}`,
    `Deadline: ${gate.deadline.toISOString()}, then ${settings.timeoutAction}`,
    '',
    ...(links.length
      ? links.flatMap((l) => [
          l.approver === null ? 'Anyone may decide (the page asks your name):' : `For ${oneLine(l.approver)} only:`,
          `  Approve: ${l.approve}`,
          `  Reject:  ${l.reject}`,
        ])
      : [
          `No links: ${PUBLIC_URL_ENV} is not set where trig sent this. Decide on the machine that runs trig:`,
          `  ${commands.approve} --as NAME`,
          `  ${commands.reject} --as NAME`,
        ]),
    '',
  ].join('\n');
  return { gate, links, commands, subject, text };
}
