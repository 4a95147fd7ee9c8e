// Turns a raw GitHub webhook delivery into the flat trigger fields the catalog names
// (`repo`, `branch`, `changedFiles`, ...), so that filters and `<+trigger.*>` read the
// same fields whether the payload came from GitHub or was written flat by hand.

import { refFields } from '../shared/git-refs.js';
import { isRecord } from '../shared/records.js';

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return isRecord(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const ZERO_SHA = /^0+$/;

/** `refs/heads/x` → branch x, `refs/tags/v1` → tag v1; other refs carry neither. */
function changedFiles(commits: unknown): string[] {
  const files = new Set<string>();
  if (!Array.isArray(commits)) return [];
  for (const commit of commits) {
    const c = obj(commit);
    if (!c) continue;
    for (const key of ['added', 'modified', 'removed']) {
      const list = c[key];
      if (Array.isArray(list)) for (const file of list) if (typeof file === 'string') files.add(file);
    }
  }
  return [...files];
}

function pushFields(p: Json): Json {
  const head = obj(p.head_commit);
  const after = str(p.after);
  // A deleted branch has an all-zero `after` and no head commit: no commit to name.
  const commitSha = after && !ZERO_SHA.test(after) ? after : str(head?.id);
  const author = obj(head?.author);
  return {
    ...refFields(str(p.ref)),
    commitSha,
    before: str(p.before),
    after,
    changedFiles: changedFiles(p.commits),
    commitMessage: str(head?.message),
    // The login when GitHub knows the committer's account, else the name from git.
    author: str(author?.username) ?? str(author?.name),
  };
}

function pullRequestFields(p: Json): Json {
  const pr = obj(p.pull_request);
  const base = obj(pr?.base);
  const head = obj(pr?.head);
  const targetBranch = str(base?.ref);
  return {
    pullReq: num(p.number) ?? num(pr?.number),
    // GitHub's `branches` filter for pull requests reads the base branch.
    branch: targetBranch,
    sourceBranch: str(head?.ref),
    targetBranch,
    prTitle: str(pr?.title),
    commitSha: str(head?.sha),
    // GitHub's pull request deliveries list no changed files (its Actions fetch them from
    // the API); a sender can add them as a `changedFiles` array for the path filters.
    changedFiles: stringList(p.changedFiles),
  };
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

function commentFields(p: Json): Json {
  const issue = obj(p.issue);
  // An issue comment is on a pull request when the issue carries a `pull_request` link.
  const pullReq = issue ? (obj(issue.pull_request) ? num(issue.number) : undefined) : num(obj(p.pull_request)?.number);
  return { commentBody: str(obj(p.comment)?.body), pullReq };
}

function createDeleteFields(p: Json): Json {
  const ref = str(p.ref);
  if (!ref) return {};
  if (p.ref_type === 'branch') return { branch: ref };
  if (p.ref_type === 'tag') return { tag: ref };
  return {};
}

/** A workflow_run delivery: the finished (or requested) run, as the flat fields trig's own workflow_run carries. */
function workflowRunFields(p: Json): Json {
  const run = obj(p.workflow_run);
  return {
    conclusion: str(run?.conclusion),
    // The run's name, else its workflow's (some deliveries leave the run's empty).
    workflow: str(run?.name) || str(obj(p.workflow)?.name),
    runId: num(run?.id),
    branch: str(run?.head_branch),
  };
}

const EVENT_FIELDS: Record<string, (payload: Json) => Json> = {
  workflow_run: workflowRunFields,
  push: pushFields,
  pull_request: pullRequestFields,
  pull_request_target: pullRequestFields,
  issue_comment: commentFields,
  pull_request_review_comment: commentFields,
  discussion_comment: commentFields,
  pull_request_review: (p) => ({ pullReq: num(obj(p.pull_request)?.number) }),
  create: createDeleteFields,
  delete: createDeleteFields,
};

/** Whether the payload has the shape of a GitHub webhook delivery. */
export function isGithubDelivery(payload: Json): boolean {
  return typeof obj(payload.repository)?.full_name === 'string';
}

/**
 * The flat trigger fields of a GitHub webhook delivery, or undefined when the payload is
 * not one (a flat payload written by hand, as in the seed's Event Reference). Fields the
 * delivery does not carry are left out rather than set to undefined.
 */
export function normalizeGithubPayload(event: string, payload: Json): Json | undefined {
  if (!isGithubDelivery(payload)) return undefined;
  const repository = obj(payload.repository)!;
  const fields: Json = {
    repo: repository.full_name,
    repoName: str(repository.name),
    repoNamespace: str(obj(repository.owner)?.login),
    action: str(payload.action),
    sender: str(obj(payload.sender)?.login),
    ...(EVENT_FIELDS[event]?.(payload) ?? {}),
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields;
}

/**
 * A hint when the payload is not a delivery's body but GitHub's record of a delivery, as
 * the deliveries API returns it (`gh api …/hooks/ID/deliveries/ID`): the body is in
 * `.request.payload`, next to the request's headers. Such a payload carries none of the
 * event's fields, so it would silently match nothing.
 */
export function deliveryRecordHint(payload: Json): string | undefined {
  const request = obj(payload.request);
  if (!request || !obj(request.payload) || isGithubDelivery(payload)) return undefined;
  if (!obj(request.headers) && typeof payload.guid !== 'string') return undefined;
  return "the payload looks like a delivery record from GitHub's deliveries API, which holds the event's body in .request.payload; pass that instead (gh api … --jq .request.payload | trig fire … --payload -)";
}
