// The jira channel: an issue created through Jira's REST API (POST /rest/api/2/issue, which
// answers 201 with the new issue's id, key and self), holding the message and the links. The
// token (a personal access token, sent as a Bearer token) comes from the `token:` reference
// or TRIG_JIRA_TOKEN; the URL from `url:` or TRIG_JIRA_URL.

import { oneLine } from '../../shared/printable.js';
import { expectSuccess, httpUrl, NotifyError, postJson } from './http.js';
import type { GateNotice } from './notice.js';
import { channelSecret } from './secret.js';

export const JIRA_TOKEN_ENV = 'TRIG_JIRA_TOKEN';
export const JIRA_URL_ENV = 'TRIG_JIRA_URL';
export const JIRA_DEFAULT_ISSUE_TYPE = 'Task';

export function jiraIssue(notice: GateNotice, settings: Record<string, unknown>): Record<string, unknown> {
  const { gate } = notice;
  // Jira refuses a summary over 255 characters or with a line break.
  const summary = oneLine(`Approve ${gate.definition}: ${gate.message ?? `run ${gate.runId}`}`).slice(0, 255);
  return {
    fields: {
      project: { key: String(settings.project) },
      summary,
      description: notice.text,
      issuetype: { name: typeof settings['issue-type'] === 'string' ? settings['issue-type'] : JIRA_DEFAULT_ISSUE_TYPE },
    },
  };
}

export async function sendJira(notice: GateNotice, settings: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  if (typeof settings.project !== 'string' || !settings.project) throw new NotifyError('no project');
  const base = httpUrl(settings.url ?? env[JIRA_URL_ENV], `url (or ${JIRA_URL_ENV})`).replace(/\/+$/, '');
  const token = channelSecret(settings, 'token', JIRA_TOKEN_ENV, env);
  const answer = await postJson(`${base}/rest/api/2/issue`, jiraIssue(notice, settings), {
    Authorization: `Bearer ${token}`,
    Accept: 'application/json',
  });
  expectSuccess(answer, 'Jira');
  let key: unknown;
  try {
    key = (JSON.parse(answer.text) as { key?: unknown }).key;
  } catch {
    key = undefined;
  }
  if (typeof key !== 'string') throw new NotifyError(`Jira answered ${answer.status} without an issue key`);
}
