// Trigger contexts: what the matcher compares `on:` entries with, and what
// `<+trigger.*>` reads. One event can stand for several: an issue comment that mentions
// `@codereview` is also a `comment_mention` of `codereview`.

import { DERIVED_EVENTS } from '../catalog/events.js';
import { normalizeGithubPayload } from './github.js';
import { normalizeLinearPayload } from './linear.js';

export interface TriggerContext {
  event: string;
  /** The flat trigger fields, plus `event` (the context's event name) and `payload` (the raw payload). */
  fields: Record<string, unknown>;
}

// A mention starts after the start, whitespace or punctuation, never after a word
// character, `.`, `-` or `+`, so the `@` of `someone@example.com` is not one.
const MENTION = /(?<![\w.+\-@/])@([\w][\w.-]*)/gu;

/**
 * Each mention is an event of its own, matched against every definition: a comment from
 * outside cannot make trig do unbounded work by mentioning thousands of names.
 */
export const MAX_MENTIONS = 20;

/** Distinct names mentioned with `@name` in a comment, in order of first appearance (at most MAX_MENTIONS). */
export function mentionedNames(body: string): string[] {
  const names = new Set<string>();
  for (const m of body.matchAll(MENTION)) {
    // A mention that ends a sentence ("thanks @codereview.") does not own the full stop.
    const name = m[1]!.replace(/[.-]+$/u, '');
    if (name) names.add(name);
    if (names.size === MAX_MENTIONS) break;
  }
  return [...names];
}

type Deriver = (fields: Record<string, unknown>) => Record<string, unknown>[];

// How each derived event (the targets of the catalog's DERIVED_EVENTS) is read from its
// source event's fields: one field set per derived context.
const DERIVERS: Record<string, Deriver> = {
  comment_mention: (fields) =>
    typeof fields.commentBody === 'string'
      ? mentionedNames(fields.commentBody).map((name) => ({ ...fields, event: 'comment_mention', mentionedAgent: name }))
      : [],
};

/**
 * The contexts an event stands for: the event itself first, then the events derived from
 * it (catalog DERIVED_EVENTS), in catalog order.
 */
export function buildTriggerContexts(event: string, payload: Record<string, unknown>): TriggerContext[] {
  const flat = normalizeGithubPayload(event, payload) ?? normalizeLinearPayload(payload) ?? payload;
  const fields: Record<string, unknown> = { ...flat, event, payload };
  // A comment_mention that names no agent (a Linear comment, or a flat payload with only
  // the comment's body) stands for each name its body mentions, as an issue comment does.
  if (event === 'comment_mention' && fields.mentionedAgent === undefined) {
    const mentions = DERIVERS.comment_mention!(fields);
    if (mentions.length) return mentions.map((derived) => ({ event, fields: derived }));
  }
  const contexts: TriggerContext[] = [{ event, fields }];
  for (const derived of DERIVED_EVENTS[event] ?? []) {
    const deriver = DERIVERS[derived];
    if (!deriver) continue;
    for (const derivedFields of deriver(fields)) contexts.push({ event: derived, fields: derivedFields });
  }
  return contexts;
}
