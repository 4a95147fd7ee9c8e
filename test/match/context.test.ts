import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { buildTriggerContexts, MAX_MENTIONS, mentionedNames } from '../../src/match/context.js';

type Payload = Record<string, any>;
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Payload[] }[];
const example = (name: string): Payload => definitions.find((d) => d.name === name)!.examples[0]!;

describe('mentionedNames', () => {
  it.each([
    ['@codereview please review', ['codereview']],
    ['ping @codereview and @auto-fix, then @codereview again', ['codereview', 'auto-fix']],
    ['thanks @codereview.', ['codereview']],
    ['@my_agent.v2: go', ['my_agent.v2']],
    ['(@codereview)', ['codereview']],
    ['mail me at someone@example.com', []],
    ['a+b@example.com and first.last@example.com', []],
    ['@@codereview', []],
    ['no mention here', []],
    ['@ alone', []],
    ['line one\n@Reviewer on line two', ['Reviewer']],
  ])('%j → %j', (body, names) => {
    expect(mentionedNames(body)).toEqual(names);
  });
});

describe('buildTriggerContexts', () => {
  it('a flat payload keeps its own keys, plus event and payload', () => {
    const payload = { repo: 'my-service', branch: 'main', executionId: 'abc123' };
    expect(buildTriggerContexts('pipeline_failed', payload)).toEqual([
      {
        event: 'pipeline_failed',
        fields: { repo: 'my-service', branch: 'main', executionId: 'abc123', event: 'pipeline_failed', payload },
      },
    ]);
  });

  it('a GitHub delivery is normalised, the raw payload kept under payload', () => {
    const payload = example('push');
    const [ctx, ...rest] = buildTriggerContexts('push', payload);
    expect(rest).toEqual([]);
    expect(ctx!.event).toBe('push');
    expect(ctx!.fields.repo).toBe('Codertocat/Hello-World');
    expect(ctx!.fields.event).toBe('push');
    expect(ctx!.fields.payload).toBe(payload);
    expect(ctx!.fields).not.toHaveProperty('repository');
  });

  it('an issue comment mentioning agents also stands for one comment_mention per agent', () => {
    const base = example('issue_comment');
    const payload = {
      ...base,
      comment: { ...base.comment, body: '@codereview and @autofix, have a look (cc me@example.com) @codereview' },
      issue: { ...base.issue, number: 9, pull_request: { url: 'x' } },
    };
    const contexts = buildTriggerContexts('issue_comment', payload);
    expect(contexts.map((c) => [c.event, c.fields.event, c.fields.mentionedAgent])).toEqual([
      ['issue_comment', 'issue_comment', undefined],
      ['comment_mention', 'comment_mention', 'codereview'],
      ['comment_mention', 'comment_mention', 'autofix'],
    ]);
    for (const c of contexts) {
      expect(c.fields.repo).toBe('Codertocat/Hello-World');
      expect(c.fields.pullReq).toBe(9);
      expect(c.fields.commentBody).toBe(payload.comment.body);
      expect(c.fields.payload).toBe(payload);
    }
    expect(contexts[0]!.fields).not.toHaveProperty('mentionedAgent');
  });

  it('review and discussion comments derive mentions too; flat payloads as well', () => {
    const review = example('pull_request_review_comment');
    const withMention = { ...review, comment: { ...review.comment, body: 'hey @fixer' } };
    expect(buildTriggerContexts('pull_request_review_comment', withMention).map((c) => c.event)).toEqual([
      'pull_request_review_comment',
      'comment_mention',
    ]);
    const flat = buildTriggerContexts('discussion_comment', { repo: 'o/r', commentBody: '@helper hi' });
    expect(flat[1]).toEqual({
      event: 'comment_mention',
      fields: {
        repo: 'o/r',
        commentBody: '@helper hi',
        event: 'comment_mention',
        mentionedAgent: 'helper',
        payload: { repo: 'o/r', commentBody: '@helper hi' },
      },
    });
  });

  it('no mention, or an event without derived events, gives the event alone', () => {
    expect(buildTriggerContexts('issue_comment', example('issue_comment'))).toHaveLength(1);
    expect(buildTriggerContexts('push', { commentBody: '@codereview' })).toHaveLength(1);
    expect(buildTriggerContexts('issue_comment', { commentBody: 42 })).toHaveLength(1);
  });
});

describe('mentions from outside are bounded', () => {
  it('keeps the first MAX_MENTIONS distinct names of a comment', () => {
    const body = Array.from({ length: 5000 }, (_, i) => `@agent${i % 1000}`).join(' ');
    const names = mentionedNames(body);
    expect(names).toHaveLength(MAX_MENTIONS);
    expect(names[0]).toBe('agent0');
    expect(names.at(-1)).toBe(`agent${MAX_MENTIONS - 1}`);
  });
});

describe('Linear deliveries', () => {
  const comment = {
    action: 'create',
    type: 'Comment',
    data: { id: 'c1', body: 'ping @codereview and @triage', issue: { identifier: 'ENG-7' } },
    url: 'https://linear.app/acme/issue/ENG-7',
    actor: { name: 'Ada' },
    webhookTimestamp: 1_780_000_000_000,
  };

  it('a comment_mention from a Linear comment stands for each name mentioned, its action named as the catalog names it', () => {
    const contexts = buildTriggerContexts('comment_mention', comment);
    expect(contexts.map((c) => [c.event, c.fields.mentionedAgent, c.fields.action, c.fields.issue, c.fields.sender])).toEqual([
      ['comment_mention', 'codereview', 'created', 'ENG-7', 'Ada'],
      ['comment_mention', 'triage', 'created', 'ENG-7', 'Ada'],
    ]);
    expect(contexts[0]!.fields.payload).toBe(comment);
  });

  it('a flat comment_mention that names its agent stays one context', () => {
    const payload = { commentBody: '@a @b', mentionedAgent: 'a' };
    expect(buildTriggerContexts('comment_mention', payload).map((c) => c.fields.mentionedAgent)).toEqual(['a']);
  });
});
