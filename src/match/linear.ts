// Turns a Linear webhook delivery (linear.app/developers/webhooks) into flat trigger
// fields. Linear's one event in the catalog is a comment that mentions `@name`: a
// `comment_mention` (the context builder makes one context per name mentioned). Linear's
// actions are named as the catalog's activity types: create → created, update → edited,
// remove → deleted.

import { isRecord } from '../shared/records.js';

type Json = Record<string, unknown>;

const ACTIONS: Readonly<Record<string, string>> = { create: 'created', update: 'edited', remove: 'deleted' };

/** Whether the payload has the shape of a Linear webhook delivery: `type`, `action`, `data` and a numeric `webhookTimestamp`. */
export function isLinearDelivery(payload: Json): boolean {
  return (
    typeof payload.type === 'string' &&
    typeof payload.action === 'string' &&
    isRecord(payload.data) &&
    typeof payload.webhookTimestamp === 'number'
  );
}

/** The body of a Linear comment delivery, else undefined. */
export function linearCommentBody(payload: Json): string | undefined {
  if (!isLinearDelivery(payload) || payload.type !== 'Comment') return undefined;
  const body = (payload.data as Json).body;
  return typeof body === 'string' ? body : undefined;
}

/** The flat fields of a Linear delivery, or undefined when the payload is not one. Fields it does not carry are left out. */
export function normalizeLinearPayload(payload: Json): Json | undefined {
  if (!isLinearDelivery(payload)) return undefined;
  const data = payload.data as Json;
  const issue = isRecord(data.issue) ? data.issue : undefined;
  const fields: Json = {
    action: ACTIONS[payload.action as string] ?? payload.action,
    linearType: payload.type,
    commentBody: linearCommentBody(payload),
    issue: typeof issue?.identifier === 'string' ? issue.identifier : undefined,
    url: typeof payload.url === 'string' ? payload.url : undefined,
    sender: isRecord(payload.actor) && typeof payload.actor.name === 'string' ? payload.actor.name : undefined,
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields;
}
