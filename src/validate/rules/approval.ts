import type { DocPath } from '../../load/triggers.js';
import {
  APPROVAL_CHANNELS,
  APPROVAL_SETTINGS,
  APPROVAL_USES,
  CHANNEL_SETTINGS,
  channelSettings,
  minApproversOf,
  TIMEOUT_ACTIONS,
  type ApprovalChannel,
} from '../../shared/approval.js';
import { durationGuess, parseDuration } from '../../shared/duration.js';
import { suggest } from '../../shared/suggest.js';
import { isRecord, mapsUnder, type Rule, type RuleProblem } from './rule.js';

// The settings of an approval gate (a step's or stage's `approval: {uses, with: {…}}`, a
// definition's `approval: {…}`) that trig could not carry out as written: the schema
// knows their types, this rule their values.

const didYouMean = (word: string, candidates: readonly string[]) => {
  const guess = suggest(word, candidates);
  return guess ? `; did you mean "${guess}"?` : '';
};

function checkGate(approval: Record<string, unknown>, path: DocPath, nested: boolean, report: (problem: RuleProblem) => void): void {
  const inner = nested && isRecord(approval.with) ? approval.with : undefined;
  // Where a setting is written: under `with:` for steps and stages (the upstream shape), else beside `uses`.
  const at = (key: string): DocPath | undefined =>
    inner && key in inner ? [...path, 'with', key] : key in approval ? [...path, key] : undefined;
  const value = (key: string): unknown => (inner && key in inner ? inner[key] : approval[key]);

  const uses = approval.uses;
  if (typeof uses === 'string' && !APPROVAL_USES.includes(uses))
    report({
      path: [...path, 'uses'],
      message: `"${uses}" is not an approval channel (${APPROVAL_USES.join(', ')})${didYouMean(uses, APPROVAL_USES)}`,
    });
  const channel =
    typeof uses === 'string' && (APPROVAL_CHANNELS as readonly string[]).includes(uses) ? (uses as ApprovalChannel) : undefined;
  const known = [...APPROVAL_SETTINGS, ...(channel ? channelSettings(channel) : [])];
  // Other settings (a Harness connector, approver groups) sit beside trig's under `with:`: only near misses are reported.
  const unknown = (inner ? Object.keys(inner) : []).filter((key) => !known.includes(key));
  for (const key of unknown) {
    const guess = suggest(key, known);
    if (guess) report({ path: [...path, 'with', key], at: 'key', message: `unknown approval setting "${key}"; did you mean "${guess}"?` });
  }
  if (channel) checkChannel(channel, { at, value, unknown, usesPath: [...path, 'uses'] }, report);
  const timeout = value('timeout');
  if (timeout !== undefined && !(typeof timeout === 'number' ? timeout > 0 : typeof timeout === 'string' && parseDuration(timeout))) {
    const guess = typeof timeout === 'string' ? durationGuess(timeout) : undefined;
    report({
      path: at('timeout')!,
      message: `${JSON.stringify(timeout)} is not a duration such as 30m, 24h or 2d${guess ? `; did you mean "${guess}"?` : ''}`,
    });
  }
  const action = value('timeout-action');
  if (action !== undefined && !(TIMEOUT_ACTIONS as readonly unknown[]).includes(action))
    report({
      path: at('timeout-action')!,
      message: `timeout-action must be reject or approve${typeof action === 'string' ? didYouMean(action, TIMEOUT_ACTIONS) : ''}`,
    });
  const min = value('min-approvers');
  if (min !== undefined && minApproversOf(min) === undefined)
    report({ path: at('min-approvers')!, message: 'min-approvers must be a whole number from 1 (distinct people who approve)' });
  const approvers = value('approvers');
  if (approvers !== undefined && !(Array.isArray(approvers) && approvers.every((a) => typeof a === 'string')))
    report({ path: at('approvers')!, message: 'approvers must be a list of names' });
  else if (Array.isArray(approvers) && approvers.length && (minApproversOf(min) ?? 1) > new Set(approvers).size)
    report({
      path: at('min-approvers') ?? at('approvers')!,
      message: `min-approvers ${minApproversOf(min) ?? 1} can never be met: only ${new Set(approvers).size} distinct approvers are listed`,
    });
  const message = value('message');
  if (message !== undefined && typeof message !== 'string') report({ path: at('message')!, message: 'message must be a string' });
}

/** A channel's own settings: the required ones present (reported at `uses:`, naming a near miss), each of the right kind. */
function checkChannel(
  channel: ApprovalChannel,
  gate: { at: (key: string) => DocPath | undefined; value: (key: string) => unknown; unknown: string[]; usesPath: DocPath },
  report: (problem: RuleProblem) => void,
): void {
  const { at, value } = gate;
  for (const key of CHANNEL_SETTINGS[channel].required) {
    if (value(key) !== undefined) continue;
    const near = gate.unknown.find((k) => suggest(k, [key]) === key);
    report({
      path: gate.usesPath,
      message: `the ${channel} channel needs ${key}: ${REQUIRED_WHY[key] ?? 'see the README'}${near ? ` (is "${near}" meant to be "${key}"?)` : ''}`,
    });
  }
  const url = value('url');
  if (url !== undefined && !isHttpUrl(url))
    report({
      path: at('url')!,
      message: `url must be an http or https URL (${channel === 'slack' ? "the Slack incoming webhook's" : 'where trig sends the gate'})`,
    });
  for (const key of ['channel', 'from', 'subject', 'project', 'issue-type', 'secret', 'token', 'connector']) {
    const v = value(key);
    if (v !== undefined && channelSettings(channel).includes(key) && typeof v !== 'string')
      report({ path: at(key)!, message: `${key} must be a string` });
  }
  for (const key of ['secret', 'token']) {
    const v = value(key);
    if (typeof v === 'string' && channelSettings(channel).includes(key) && !/^[A-Za-z_][\w.-]*$/.test(v))
      report({
        path: at(key)!,
        message: `${key} names a secret (a reference such as account.${key === 'token' ? 'jira_token' : 'hook_secret'}, read from TRIG_SECRET_*), never the secret itself`,
      });
  }
  const to = value('to');
  if (channel === 'email' && to !== undefined) {
    const list = typeof to === 'string' ? [to] : Array.isArray(to) ? to : undefined;
    if (!list || !list.length || !list.every((a) => typeof a === 'string' && /^[^\s@]+@[^\s@]+$/.test(a.trim())))
      report({ path: at('to')!, message: 'to must be an email address or a list of them' });
  }
}

const REQUIRED_WHY: Readonly<Record<string, string>> = {
  url: 'the address to send the gate to',
  to: 'the addresses to mail (a list)',
  project: 'the key of the Jira project to create the issue in',
};

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export const approval: Rule = {
  name: 'approval',
  description:
    'an approval gate trig could not carry out as written: a `uses` that is not a channel (did you mean?), a `timeout` that is not a duration, a `timeout-action` other than reject or approve, a `min-approvers` that is not a whole number from 1 or that the listed `approvers` can never meet, a misspelt setting under `with:` (did you mean `min-approvers`?), the missing or malformed settings of a channel (webhook and slack need a `url`, email `to`, jira a `project`; a `secret` or `token` is a TRIG_SECRET_* reference)',
  check(document, report) {
    if (!document.root || !document.body) return;
    // The definition's own gate has its settings beside `uses`; a step's or stage's under `with:`.
    for (const [gate, path] of mapsUnder('approval', document.body, [document.root])) checkGate(gate, path, path.length > 2, report);
  },
};
