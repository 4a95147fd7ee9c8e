// The email channel: one mail through SMTP (nodemailer; the server's URL, with any user and
// password, in TRIG_SMTP_URL) to every address in `to`. One message for all recipients:
// trig knows approvers by name, not by address, so it cannot tell whose mailbox is whose;
// the message carries each approver's links under their name (see README, Approval links).

import os from 'node:os';
import { oneLine } from '../../shared/printable.js';
import { NotifyError, REQUEST_TIMEOUT_MS } from './http.js';
import type { GateNotice } from './notice.js';

export const SMTP_URL_ENV = 'TRIG_SMTP_URL';

/** `to` as a list of addresses (one string, or a list). */
export function recipients(to: unknown): string[] {
  const list = typeof to === 'string' ? [to] : Array.isArray(to) ? to : [];
  return list.filter((a): a is string => typeof a === 'string' && a.trim() !== '').map((a) => a.trim());
}

export async function sendEmail(notice: GateNotice, settings: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const url = env[SMTP_URL_ENV];
  if (!url) throw new NotifyError(`${SMTP_URL_ENV} is not set`);
  const to = recipients(settings.to);
  if (!to.length) throw new NotifyError('no recipients (to:)');
  // Loaded only here: no other command pays for nodemailer.
  const nodemailer = (await import('nodemailer')).default;
  let transport: ReturnType<typeof nodemailer.createTransport>;
  try {
    transport = nodemailer.createTransport({
      url,
      connectionTimeout: REQUEST_TIMEOUT_MS,
      greetingTimeout: REQUEST_TIMEOUT_MS,
      socketTimeout: REQUEST_TIMEOUT_MS,
      dnsTimeout: REQUEST_TIMEOUT_MS,
    });
  } catch {
    throw new NotifyError(`${SMTP_URL_ENV} is not an SMTP URL (smtp://host:port or smtps://user:password@host)`);
  }
  try {
    await transport.sendMail({
      from: typeof settings.from === 'string' ? settings.from : `trig <trig@${os.hostname()}>`,
      to,
      subject: oneLine(typeof settings.subject === 'string' ? settings.subject : notice.subject),
      text: notice.text,
    });
  } catch (error) {
    // nodemailer's messages may quote the server's greeting or the command: one line, masked by the caller.
    const { code, responseCode } = error as { code?: string; responseCode?: number };
    throw new NotifyError(
      `SMTP: ${responseCode ? `${responseCode} ` : ''}${code ?? ''} ${oneLine((error as Error).message).slice(0, 200)}`.replace(
        /\s+/g,
        ' ',
      ),
    );
  } finally {
    transport.close();
  }
}
