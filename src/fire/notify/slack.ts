// The slack channel: a message through a Slack incoming webhook (its URL is the `url`
// setting; Slack answers 200 "ok"). Block Kit: the message, the run, then each approver's
// Approve and Reject buttons, which are links to `trig serve` (a button with a url opens it:
// the confirmation page, where the decision is made). `text` is the fallback notifications show.

import { oneLine } from '../../shared/printable.js';
import { expectSuccess, httpUrl, postJson } from './http.js';
import type { GateNotice } from './notice.js';

/** Slack's mrkdwn gives &, < and > a meaning: they are escaped as Slack says to. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Block Kit caps a section's text at 3000 characters and a button's label at 75. */
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function slackPayload(notice: GateNotice, settings: Record<string, unknown>): Record<string, unknown> {
  const { gate } = notice;
  const asked = slackEscape(oneLine(gate.message ?? `approve the run of ${gate.definition}?`));
  const facts = `Definition *${slackEscape(oneLine(gate.definition))}* · run \`${gate.runId}\` · gate \`${gate.id}\` · until ${gate.deadline.toISOString()}, then ${gate.settings.timeoutAction}`;
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(`*Approval needed:* ${asked}`, 3000) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: cut(facts, 3000) }] },
  ];
  for (const link of notice.links) {
    const who = link.approver === null ? '' : ` as ${oneLine(link.approver)}`;
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: cut(`Approve${who}`, 75) }, style: 'primary', url: link.approve },
        { type: 'button', text: { type: 'plain_text', text: cut(`Reject${who}`, 75) }, style: 'danger', url: link.reject },
      ],
    });
  }
  if (!notice.links.length)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `No links (TRIG_PUBLIC_URL is not set): decide with \`${notice.commands.approve} --as NAME\` or \`${notice.commands.reject} --as NAME\``,
      },
    });
  return {
    text: `Approval needed: ${asked} (${slackEscape(oneLine(gate.definition))}, gate ${gate.id})`,
    ...(typeof settings.channel === 'string' ? { channel: settings.channel } : {}),
    blocks,
  };
}

export async function sendSlack(notice: GateNotice, settings: Record<string, unknown>): Promise<void> {
  const answer = await postJson(httpUrl(settings.url, 'url'), slackPayload(notice, settings));
  expectSuccess(answer, 'Slack');
}
