// The event catalog: the single source of truth for event names, the filters each
// event accepts, and the trigger fields each event carries. The events JSON Schema
// (schemas/events.schema.json), the validate rules, the matcher and the README's
// event table are all derived from this file.

import { UsageError } from '../shared/errors.js';
import { suggest } from '../shared/suggest.js';
import type { FilterKind } from './filter-kinds.js';

export type EventGroup = 'github' | 'ci' | 'cd' | 'ccm' | 'sto' | 'platform' | 'local';

export interface FilterSpec {
  /** How the filter is evaluated: see FILTER_KINDS in filter-kinds.ts. */
  kind: FilterKind;
  /** The trigger field the filter reads; absent for filters that read no single field. */
  field?: string;
  /** For `one-of`: the allowed values. */
  values?: readonly string[];
  /** The filter that must not be combined with this one on one event (`branches` with `branches-ignore`). */
  exclusiveWith?: string;
  description: string;
}

export interface EventSpec {
  name: string;
  group: EventGroup;
  description: string;
  filters: Readonly<Record<string, FilterSpec>>;
  /** Trigger fields the event carries, besides the fields every event has. */
  fields: readonly string[];
  /**
   * Every activity type (the payload's `action`) the event has, for checking `types:`;
   * empty for an event whose deliveries carry no action; absent when any value goes
   * (repository_dispatch's types are the senders' own).
   */
  activityTypes?: readonly string[];
  /** Activity types matched when the definition gives no `types` filter. */
  defaultTypes?: readonly string[];
}

/** Fields every trigger context has, whatever the event. */
export const COMMON_FIELDS = ['event', 'payload'] as const;

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

const f = {
  globs: (field: string, description: string, exclusiveWith?: string): FilterSpec => ({
    kind: 'globs',
    field,
    description,
    ...(exclusiveWith ? { exclusiveWith } : {}),
  }),
  ignore: (field: string, description: string, exclusiveWith: string): FilterSpec => ({
    kind: 'globs-ignore',
    field,
    description,
    exclusiveWith,
  }),
  types: (): FilterSpec => ({
    kind: 'types',
    field: 'action',
    description: "Activity types (the payload's `action`) that start a run.",
  }),
};

const gitRefFilters: Record<string, FilterSpec> = {
  branches: f.globs('branch', 'Branch patterns; a leading `!` excludes; the last matching pattern wins.', 'branches-ignore'),
  'branches-ignore': f.ignore('branch', 'Branch patterns that do not start a run.', 'branches'),
  tags: f.globs('tag', 'Tag patterns; a leading `!` excludes; the last matching pattern wins.', 'tags-ignore'),
  'tags-ignore': f.ignore('tag', 'Tag patterns that do not start a run.', 'tags'),
  paths: {
    kind: 'paths',
    field: 'changedFiles',
    exclusiveWith: 'paths-ignore',
    description: 'Runs when any changed file matches; a leading `!` excludes; the last matching pattern wins.',
  },
  'paths-ignore': {
    kind: 'paths-ignore',
    field: 'changedFiles',
    exclusiveWith: 'paths',
    description: 'Skips the run when every changed file matches.',
  },
};

const GITHUB_REPO_FIELDS = ['repo', 'repoName', 'repoNamespace', 'action', 'sender'] as const;
const PUSH_FIELDS = ['branch', 'tag', 'commitSha', 'before', 'after', 'changedFiles', 'commitMessage', 'author'];
// changedFiles only when the sender adds it: GitHub's deliveries do not list the files.
const PULL_REQUEST_FIELDS = ['pullReq', 'branch', 'sourceBranch', 'targetBranch', 'prTitle', 'commitSha', 'changedFiles'];
const COMMENT_FIELDS = ['commentBody', 'pullReq'];

function github(
  name: string,
  description: string,
  activityTypes: readonly string[] | undefined,
  extra: { filters?: Record<string, FilterSpec>; fields?: readonly string[]; defaultTypes?: readonly string[] } = {},
): EventSpec {
  return {
    name,
    group: 'github',
    description,
    filters: extra.filters ?? { types: f.types() },
    fields: [...GITHUB_REPO_FIELDS, ...(extra.fields ?? [])],
    ...(activityTypes ? { activityTypes } : {}),
    ...(extra.defaultTypes ? { defaultTypes: extra.defaultTypes } : {}),
  };
}

// Activity types as GitHub documents them for each webhook event ("Webhook events and
// payloads", and "Events that trigger workflows" for `types:`). Where the webhook has
// more actions than Actions lets a workflow filter on (check_suite, merge_group), the
// webhook's are listed: trig reads the deliveries themselves.
const NO_TYPES: readonly string[] = [];
const CRUD = ['created', 'edited', 'deleted'];
const PULL_REQUEST_TYPES = [
  'assigned',
  'unassigned',
  'labeled',
  'unlabeled',
  'opened',
  'edited',
  'closed',
  'reopened',
  'synchronize',
  'converted_to_draft',
  'ready_for_review',
  'locked',
  'unlocked',
  'review_requested',
  'review_request_removed',
  'auto_merge_enabled',
  'auto_merge_disabled',
  'enqueued',
  'dequeued',
  'milestoned',
  'demilestoned',
];
/** workflow_run's activity types: trig fires `completed`; `requested` and `in_progress` come from GitHub's deliveries. */
const WORKFLOW_RUN_TYPES = ['completed', 'requested', 'in_progress'];
/**
 * How a finished run concluded, in workflow_run's `conclusion` (GitHub's names): trig's
 * run statuses succeeded, failed, cancelled, timed_out and blocked (action_required).
 */
export const WORKFLOW_CONCLUSIONS = ['success', 'failure', 'cancelled', 'timed_out', 'action_required'] as const;
/** The comment events' types, which comment_mention (derived from them) carries too. */
const COMMENT_TYPES = CRUD;

// The 35 GitHub events of the upstream spec's EventType.
const GITHUB_EVENTS: EventSpec[] = [
  github('branch_protection_rule', 'Branch protection rules changed.', CRUD),
  github('check_run', 'A check run changed.', ['created', 'rerequested', 'completed', 'requested_action']),
  github('check_suite', 'A check suite changed.', ['completed', 'requested', 'rerequested']),
  github('create', 'A branch or tag was created.', NO_TYPES, { fields: ['branch', 'tag'] }),
  github('delete', 'A branch or tag was deleted.', NO_TYPES, { fields: ['branch', 'tag'] }),
  github('deployment', 'A deployment was created.', ['created']),
  github('deployment_status', 'A deployment status changed.', ['created']),
  github('discussion', 'A discussion changed.', [
    'created',
    'edited',
    'deleted',
    'transferred',
    'pinned',
    'unpinned',
    'labeled',
    'unlabeled',
    'locked',
    'unlocked',
    'category_changed',
    'answered',
    'unanswered',
    'closed',
    'reopened',
  ]),
  github('discussion_comment', 'A discussion comment changed.', COMMENT_TYPES, { fields: ['commentBody'] }),
  github('fork', 'The repository was forked.', NO_TYPES),
  github('gollum', 'A wiki page changed.', NO_TYPES),
  github('issue_comment', 'A comment on an issue or pull request changed.', COMMENT_TYPES, { fields: COMMENT_FIELDS }),
  github('issues', 'An issue changed.', [
    'opened',
    'edited',
    'deleted',
    'transferred',
    'pinned',
    'unpinned',
    'closed',
    'reopened',
    'assigned',
    'unassigned',
    'labeled',
    'unlabeled',
    'locked',
    'unlocked',
    'milestoned',
    'demilestoned',
    'typed',
    'untyped',
  ]),
  github('label', 'A label changed.', CRUD),
  github('merge_group', 'A pull request was added to a merge queue.', ['checks_requested', 'destroyed']),
  github('milestone', 'A milestone changed.', ['created', 'closed', 'opened', 'edited', 'deleted']),
  github('page_build', 'A GitHub Pages build ran.', NO_TYPES),
  github('project', 'A classic project changed.', ['created', 'closed', 'reopened', 'edited', 'deleted']),
  github('project_card', 'A classic project card changed.', ['created', 'moved', 'converted', 'edited', 'deleted']),
  github('project_column', 'A classic project column changed.', ['created', 'updated', 'edited', 'moved', 'deleted']),
  github('public', 'The repository became public.', NO_TYPES),
  github('pull_request', 'A pull request changed.', PULL_REQUEST_TYPES, {
    filters: { ...gitRefFilters, types: f.types() },
    fields: PULL_REQUEST_FIELDS,
    defaultTypes: ['opened', 'synchronize', 'reopened'],
  }),
  github('pull_request_review', 'A pull request review changed.', ['submitted', 'edited', 'dismissed'], { fields: ['pullReq'] }),
  github('pull_request_review_comment', 'A pull request review comment changed.', COMMENT_TYPES, { fields: COMMENT_FIELDS }),
  github('pull_request_target', 'A pull request changed (run in the context of the base branch).', PULL_REQUEST_TYPES, {
    filters: { ...gitRefFilters, types: f.types() },
    fields: PULL_REQUEST_FIELDS,
    defaultTypes: ['opened', 'synchronize', 'reopened'],
  }),
  github('push', 'Commits or tags were pushed.', NO_TYPES, { filters: gitRefFilters, fields: PUSH_FIELDS }),
  github('registry_package', 'A package was published or updated.', ['published', 'updated']),
  github('release', 'A release changed.', ['published', 'unpublished', 'created', 'edited', 'deleted', 'prereleased', 'released']),
  github('repository_dispatch', 'A custom event was sent through the API.', undefined),
  {
    name: 'schedule',
    group: 'github',
    description: 'Triggered on a cron schedule.',
    filters: {
      cron: { kind: 'schedule', description: 'A five-field cron expression.' },
      timezone: { kind: 'schedule', description: 'An IANA time zone for the cron expression; UTC when absent.' },
      name: { kind: 'schedule', description: 'A name for the schedule, given to the run as `scheduleName`.' },
      'catch-up': {
        kind: 'schedule',
        description:
          'A duration (`6h`, `2d`): when the cron entry finds that ticks were missed (the machine was off or asleep), the most recent missed time within it runs once, with `caughtUp` true.',
      },
    },
    fields: ['scheduleName', 'cron', 'scheduledAt', 'caughtUp'],
  },
  github('status', 'A commit status changed.', NO_TYPES),
  github('watch', 'The repository was starred.', ['started']),
  github('workflow_call', 'Called by another workflow.', NO_TYPES),
  {
    name: 'workflow_dispatch',
    group: 'github',
    description: 'Triggered manually by a user.',
    filters: { inputs: { kind: 'dispatch-inputs', description: 'Inputs offered on a manual run.' } },
    fields: [],
  },
  github(
    'workflow_run',
    "Another workflow run was requested or completed; trig fires it (`completed`) when one of its own runs ends, with the chain of runs that led to it (see Chains). The payload's `event` is what started that run: read it as `<+trigger.payload.event>`, since `<+trigger.event>` is `workflow_run`.",
    WORKFLOW_RUN_TYPES,
    {
      filters: {
        workflows: f.globs('workflow', 'Names of the workflows (definitions) whose runs start this one; glob patterns.'),
        types: f.types(),
        conclusions: {
          kind: 'one-of',
          field: 'conclusion',
          values: WORKFLOW_CONCLUSIONS,
          description: 'Conclusions of the finished run that start this one (a trig addition; GitHub has `if:` for it).',
        },
        branches: f.globs('branch', 'Branch patterns of the finished run; a leading `!` excludes.', 'branches-ignore'),
        'branches-ignore': f.ignore('branch', 'Branch patterns of the finished run that do not start a run.', 'branches'),
      },
      fields: ['conclusion', 'workflow', 'runId', 'branch', 'chain'],
    },
  ),
];

function platform(
  name: string,
  group: EventGroup,
  description: string,
  filters: Record<string, FilterSpec>,
  fields: readonly string[],
  activityTypes?: readonly string[],
): EventSpec {
  return { name, group, description, filters, fields, ...(activityTypes ? { activityTypes } : {}) };
}

const repos = () => f.globs('repo', 'Repository patterns.');
const scanTypes = () => f.globs('scanType', 'Scan type patterns.');
const ciFilters = () => ({
  repos: repos(),
  branches: f.globs('branch', 'Branch patterns.'),
  pipelines: f.globs('pipeline', 'Pipeline patterns.'),
});
const deployFilters = () => ({
  services: f.globs('service', 'Service patterns.'),
  environments: f.globs('environment', 'Environment patterns.'),
});

// The 18 platform events of the seed's Event Reference. Fields a filter reads but the
// seed's payload column omits (`pipeline`, `scanType`) are carried too, so that every
// filter has a field to read.
const PLATFORM_EVENTS: EventSpec[] = [
  platform('pipeline_failed', 'ci', 'A CI pipeline execution has failed.', ciFilters(), ['repo', 'branch', 'executionId', 'pipeline']),
  platform('build_failed', 'ci', 'A build step has failed.', ciFilters(), ['repo', 'branch', 'executionId', 'pipeline']),
  platform('test_failed', 'ci', 'Test execution has failed.', ciFilters(), ['repo', 'branch', 'executionId', 'pipeline']),
  platform('deploy', 'cd', 'A deployment has been initiated.', deployFilters(), ['service', 'environment', 'executionId']),
  platform('deploy_failed', 'cd', 'A deployment has failed.', deployFilters(), ['service', 'environment', 'executionId']),
  platform('canary', 'cd', 'A canary deployment phase has started.', deployFilters(), ['service', 'environment', 'canaryPercent']),
  platform('rollback', 'cd', 'A deployment rollback has been triggered.', deployFilters(), ['service', 'environment', 'executionId']),
  platform(
    'slo_breach',
    'cd',
    'A service level objective has been breached.',
    { services: f.globs('service', 'Service patterns.'), slos: f.globs('sloName', 'SLO name patterns.') },
    ['service', 'sloName', 'currentValue'],
  ),
  platform('post_deploy', 'cd', 'A deployment has completed successfully.', deployFilters(), ['service', 'environment', 'executionId']),
  platform(
    'cost_spike',
    'ccm',
    'An unexpected cost increase detected.',
    {
      resources: f.globs('resource', 'Resource patterns.'),
      'threshold-percent': {
        kind: 'at-least',
        field: 'increasePercent',
        description: 'Runs when `increasePercent` is at least this number.',
      },
    },
    ['resource', 'increasePercent', 'currentCost'],
  ),
  platform('budget_exceeded', 'ccm', 'A budget threshold has been exceeded.', { budgets: f.globs('budgetName', 'Budget name patterns.') }, [
    'budgetName',
    'budgetLimit',
    'actualSpend',
  ]),
  platform('cost_anomaly', 'ccm', 'A cost anomaly has been detected.', { resources: f.globs('resource', 'Resource patterns.') }, [
    'resource',
    'anomalyType',
    'actualCost',
  ]),
  platform(
    'vulnerability_found',
    'sto',
    'A vulnerability found during a scan.',
    {
      repos: repos(),
      severity: { kind: 'one-of', field: 'severity', values: SEVERITIES, description: 'Severities that start a run.' },
      'scan-types': scanTypes(),
    },
    ['repo', 'severity', 'component', 'scanType'],
  ),
  platform('scan_complete', 'sto', 'A security scan has completed.', { repos: repos(), 'scan-types': scanTypes() }, [
    'repo',
    'scanType',
    'totalFindings',
  ]),
  platform('severity_threshold', 'sto', 'A severity threshold exceeded in scan results.', { repos: repos(), 'scan-types': scanTypes() }, [
    'repo',
    'threshold',
    'count',
    'scanType',
  ]),
  platform(
    'comment_mention',
    'platform',
    'An agent was mentioned in a comment.',
    { agents: f.globs('mentionedAgent', 'Mentioned agent name patterns.'), repos: repos(), types: f.types() },
    ['repo', 'pullReq', 'commentBody', 'mentionedAgent'],
    COMMENT_TYPES,
  ),
  platform('repo_created', 'platform', 'A new repository has been created or imported.', {}, ['repoName', 'repoNamespace']),
  platform('flag_stale', 'platform', 'A feature flag has been identified as stale.', {}, ['featureFlag', 'repo', 'treatment']),
];

/** The kinds of change a file_change event reports, in the order its payload lists them. */
export const FILE_CHANGE_TYPES = ['created', 'modified', 'deleted'] as const;

// Events trig notices itself, on this machine: `trig watch` fires file_change.
const LOCAL_EVENTS: EventSpec[] = [
  platform(
    'file_change',
    'local',
    'Files changed in a working tree that `trig watch` watches: one event per settled batch of changes. ' +
      '`changedFiles`: every changed path, relative to `root` with `/` separators, sorted; `created`, `modified`, ' +
      '`deleted`: the same paths by their net change over the batch (a file created and removed within it is left out); ' +
      '`changeTypes`: the kinds present; `root`: the watched directory, absolute.',
    {
      paths: gitRefFilters.paths!,
      'paths-ignore': gitRefFilters['paths-ignore']!,
      types: {
        kind: 'types',
        field: 'changeTypes',
        description: 'Kinds of change (`created`, `modified`, `deleted`) that start a run: any file of the batch changed so.',
      },
    },
    ['changedFiles', 'created', 'modified', 'deleted', 'changeTypes', 'root'],
    FILE_CHANGE_TYPES,
  ),
];

export const EVENTS: readonly EventSpec[] = [...GITHUB_EVENTS, ...PLATFORM_EVENTS, ...LOCAL_EVENTS];

const BY_NAME = new Map(EVENTS.map((e) => [e.name, e]));

export function eventSpec(name: string): EventSpec | undefined {
  return BY_NAME.get(name);
}

export const EVENT_NAMES: readonly string[] = EVENTS.map((e) => e.name);

/** Every trigger field the event carries, the common ones included. */
export function eventFields(name: string): readonly string[] {
  const spec = BY_NAME.get(name);
  return spec ? [...COMMON_FIELDS, ...spec.fields] : COMMON_FIELDS;
}

/**
 * Events derived from another: an issue or review comment that mentions `@agent`
 * is also a `comment_mention` of that agent.
 */
export const DERIVED_EVENTS: Readonly<Record<string, readonly string[]>> = {
  issue_comment: ['comment_mention'],
  pull_request_review_comment: ['comment_mention'],
  discussion_comment: ['comment_mention'],
};

/** Refuses a name outside the catalog, with the nearest one. */
export function checkEvent(event: string): void {
  if (eventSpec(event)) return;
  const guess = suggest(event, [...EVENT_NAMES]);
  throw new UsageError(`unknown event "${event}"${guess ? `; did you mean "${guess}"?` : ''} (see the event list in the README)`);
}
