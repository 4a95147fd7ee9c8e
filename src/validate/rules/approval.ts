import type { DocPath } from '../../load/triggers.js';
import { APPROVAL_SETTINGS, APPROVAL_USES, minApproversOf, TIMEOUT_ACTIONS } from '../../shared/approval.js';
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
  // A channel's own settings (a JIRA project, a Slack channel) sit beside trig's under `with:`: only near misses are reported.
  for (const key of inner ? Object.keys(inner) : []) {
    if ((APPROVAL_SETTINGS as readonly string[]).includes(key)) continue;
    const guess = suggest(key, APPROVAL_SETTINGS);
    if (guess) report({ path: [...path, 'with', key], at: 'key', message: `unknown approval setting "${key}"; did you mean "${guess}"?` });
  }
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

export const approval: Rule = {
  name: 'approval',
  description:
    'an approval gate trig could not carry out as written: a `uses` that is not a channel (did you mean?), a `timeout` that is not a duration, a `timeout-action` other than reject or approve, a `min-approvers` that is not a whole number from 1 or that the listed `approvers` can never meet, a misspelt setting under `with:` (did you mean `min-approvers`?)',
  check(document, report) {
    if (!document.root || !document.body) return;
    // The definition's own gate has its settings beside `uses`; a step's or stage's under `with:`.
    for (const [gate, path] of mapsUnder('approval', document.body, [document.root])) checkGate(gate, path, path.length > 2, report);
  },
};
