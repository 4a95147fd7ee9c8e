// `gh api repos/O/R/hooks/H/deliveries/D` returns GitHub's record of a delivery, with the
// event's body in .request.payload. Fired as it is, such a payload would match nothing
// and say nothing; trig warns and names the fix.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { trig } from '../helpers/trig.js';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];
const comment = examples.find((e) => e.name === 'issue_comment')!.examples.find((p) => p.action === 'created')!;

const WARNING =
  "trig: warning: the payload looks like a delivery record from GitHub's deliveries API, which holds the event's body in .request.payload; pass that instead (gh api … --jq .request.payload | trig fire … --payload -)\n";

/** A record as the deliveries API returns it (fields as GitHub documents them). */
const record = {
  id: 12345678,
  guid: '0b989ba4-242f-11e5-81e1-c7b6966d2516',
  delivered_at: '2026-11-23T09:00:00Z',
  redelivery: false,
  duration: 0.27,
  status: 'OK',
  status_code: 200,
  event: 'issue_comment',
  action: 'created',
  installation_id: null,
  repository_id: 186853002,
  url: 'https://example.com/webhook',
  request: { headers: { 'X-GitHub-Event': 'issue_comment', 'Content-Type': 'application/json' }, payload: comment },
  response: { headers: {}, payload: 'ok' },
};

const fire = (payload: unknown) =>
  trig(['fire', '--dry-run', '--defs', 'fixtures/github/issue-comment.yaml', '--event', 'issue_comment', '--payload', '-'], {
    input: JSON.stringify(payload),
  });

describe('a payload that is a delivery record', () => {
  it('is fired as given, with a warning on stderr that names the fix', () => {
    const result = fire(record);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(WARNING);
    // What the warning is about: the record carries none of the event's fields.
    expect(result.stdout).toContain('<+trigger.commentBody> has no value');
  });

  it('the body itself (--jq .request.payload) fires without a warning', () => {
    const result = fire(record.request.payload);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^fixtures\/github\/issue-comment\.yaml: issue-comment: matched issue_comment/);
  });

  it('a flat payload with a field named request is not taken for a record', () => {
    const result = fire({ request: { payload: 'x' }, repo: 'a/b' });
    expect(result.stderr).toBe('');
  });
});
