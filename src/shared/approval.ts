// The settings of an approval gate, which both the plan (which fills in their defaults) and
// the approval rule (which checks them) read. A step's or stage's `approval: {uses, with}`
// holds them under `with:` (the upstream shape); a definition's `approval: {…}` directly.

import { isRecord } from './records.js';

/** The name a definition's own gate has in the run's steps (its stage). */
export const DEFINITION_GATE = '(definition)';

/** What `uses` may say; `harness` is read as `cli` (trig is the platform here). */
export const APPROVAL_CHANNELS = ['cli', 'webhook', 'slack', 'email', 'jira'] as const;
export type ApprovalChannel = (typeof APPROVAL_CHANNELS)[number];
export const APPROVAL_USES: readonly string[] = [...APPROVAL_CHANNELS, 'harness'];
export const TIMEOUT_ACTIONS = ['reject', 'approve'] as const;
export type TimeoutAction = (typeof TIMEOUT_ACTIONS)[number];
/** The settings trig reads for every channel. */
export const APPROVAL_SETTINGS = ['message', 'timeout', 'timeout-action', 'min-approvers', 'approvers'] as const;

/**
 * Each channel's own settings, the required ones first. `url` for jira may be left to
 * TRIG_JIRA_URL (the spec's samples name a Harness connector instead of a URL), so only its
 * project is required. A setting that holds a secret names a TRIG_SECRET_* reference
 * (`secret`, `token`), never the secret itself. The compiler checks that every channel has an entry.
 */
export const CHANNEL_SETTINGS: Readonly<Record<ApprovalChannel, { required: readonly string[]; optional: readonly string[] }>> = {
  cli: { required: [], optional: [] },
  webhook: { required: ['url'], optional: ['secret'] },
  slack: { required: ['url'], optional: ['channel'] },
  email: { required: ['to'], optional: ['from', 'subject'] },
  jira: { required: ['project'], optional: ['url', 'issue-type', 'token', 'connector'] },
};

/** A channel's settings, required and optional. */
export function channelSettings(channel: ApprovalChannel): readonly string[] {
  return [...CHANNEL_SETTINGS[channel].required, ...CHANNEL_SETTINGS[channel].optional];
}
export const APPROVAL_DEFAULTS = { timeout: '24h', timeoutAction: 'reject', minApprovers: 1 } as const;

/** A gate's settings, defaults filled in; `message` as written (the plan resolves its expressions). */
export interface ApprovalSettings {
  uses: ApprovalChannel;
  message?: string;
  timeout: string;
  timeoutAction: TimeoutAction;
  minApprovers: number;
  /** Who may approve; empty: anyone. */
  approvers: string[];
  /** The channel's own settings (CHANNEL_SETTINGS) as written; absent for cli. */
  channel?: Record<string, unknown>;
}

/** `min-approvers` as a whole number from 1, if it is one (a number, or a numeric string). */
export function minApproversOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * Where a gate's settings are: `approval: true` has none, `approval: {uses, with: {…}}`
 * (steps and stages) has them under `with:`, a definition's `approval: {…}` beside `uses`.
 */
export function approvalSettingsMap(approval: unknown): Record<string, unknown> {
  if (!isRecord(approval)) return {};
  const inner = isRecord(approval.with) ? approval.with : {};
  return { ...inner, ...approval };
}

/** The gate's settings, what is missing or unusable taking its default (the approval rule reports it). */
export function approvalSettings(approval: unknown): ApprovalSettings {
  const map = approvalSettingsMap(approval);
  const uses = typeof map.uses === 'string' && map.uses !== 'harness' ? map.uses : 'cli';
  const action = map['timeout-action'];
  const timeout = typeof map.timeout === 'number' ? `${map.timeout}s` : typeof map.timeout === 'string' ? map.timeout : undefined;
  const approvers = Array.isArray(map.approvers) ? map.approvers.filter((a): a is string => typeof a === 'string') : [];
  const channel: ApprovalChannel = (APPROVAL_CHANNELS as readonly string[]).includes(uses) ? (uses as ApprovalChannel) : 'cli';
  const own = Object.fromEntries(
    channelSettings(channel)
      .filter((key) => map[key] !== undefined)
      .map((key) => [key, map[key]]),
  );
  return {
    uses: channel,
    ...(typeof map.message === 'string' ? { message: map.message } : {}),
    timeout: timeout ?? APPROVAL_DEFAULTS.timeout,
    timeoutAction: action === 'approve' ? 'approve' : 'reject',
    minApprovers: minApproversOf(map['min-approvers']) ?? APPROVAL_DEFAULTS.minApprovers,
    approvers: [...new Set(approvers)],
    ...(Object.keys(own).length ? { channel: own } : {}),
  };
}
