// The store: what trig remembers between its one-shot commands. Every caller (trig fire,
// the git hooks, the cron entry, later the HTTP receiver) goes through the fire core, and
// the fire core goes through this interface; the SQLite file (sqlite.ts) is one adapter of
// it. Methods are asynchronous so that an adapter over a network database (PostgreSQL,
// for several machines) can serve the same callers unchanged.
//
// Guarantees every adapter must keep:
//  1. admitEvent is atomic: of any number of callers, racing in any number of processes,
//     that admit the same (source, deliveryKey), exactly one gets `duplicate: false`; the
//     others get the first one's event id. An event with a delivery key is durable when it
//     returns (one without is as durable as a run's later updates, guarantee 6).
//     Given a dispatch, the event and its runs are recorded together or not at all, so a
//     caller that dies cannot leave a delivery marked handled with nothing queued for it.
//  2. addRuns is idempotent per run key: a run key that is already stored (the same
//     definition for the same delivery) is not added again, and its caller is told which
//     run holds it. So a definition never runs twice for one delivery, even when a caller
//     dies between admitting an event and adding its runs and another one finishes the job.
//  3. Concurrency groups (GitHub Actions' rule), decided under write transactions: of the
//     runs of one group, at most one holds it (`queued`, about to start, `running`, or
//     suspended: `retrying`, `awaiting_approval`) and at most one is `waiting`. A run that
//     arrives (is dispatched) cancels the group's waiting run (superseded), then holds the
//     group if no run does, else waits; with cancelInProgress it also cancels the holder:
//     outright when it has not started or is suspended, else by asking it to
//     stop (cancelRequested names it; its owner stops it and records `cancelled`). claimRun
//     starts a holder, and a waiting run once no run holds the group; a run cancelled
//     meanwhile gets `cancelled`.
//  4. A run is owned by one process (host, pid, process start time) while it is queued or
//     running. reapLost marks `lost` every run of this host whose owner is gone, and hands
//     back its id and process groups so the caller can stop what survived (by group, and
//     by the TRIG_RUN_ID its steps carry, for a group never recorded); nothing stays
//     `running` forever. A run that is `retrying` (suspended at a resume point) is never
//     marked lost: whether its owner waits for the retry itself or is gone, it is resumable.
//  5. A run's stored log keeps its last LOG_LIMIT_BYTES; what is dropped is counted and said.
//  6. Admitting an event with a delivery key, dispatching runs and suspending are durable
//     (on disk, surviving power loss) when they return. A run's later updates (claim, process
//     groups, log lines, end) survive the process being killed, but power loss may take the
//     latest ones back: the run then shows as not over with its owner gone, so it is marked
//     lost (guarantee 4), never run again. An event admitted without a delivery key is
//     written as those updates are: power loss may take it back with its runs (nothing
//     promised it would not run again: it has no key to be known by).
//  7. An event admitted without a dispatch (the HTTP receiver acknowledges a delivery that
//     way, before deciding it) stays listed by listUndispatched, oldest first, until
//     dispatchEvent records its decisions: a receiver that dies between the two finds it
//     there when it starts again, and guarantee 2 makes a second dispatch of one event run
//     nothing twice. Pruning (by age, count, or the automatic bound) never removes it.
//  8. Nothing here masks: callers store only masked text (logs) and payloads that carry no
//     secrets (secrets live in TRIG_SECRET_* variables, never in events).
//  9. Resuming (suspendRun, resumableRuns, claimResume): a suspended run keeps what it
//     needs to go on (its ResumePoint and RunSnapshot) and still holds its concurrency
//     group. Of any number of callers, racing in any number of processes, that claim the
//     same suspended run, exactly one gets it; its owner, after waiting in-process, claims
//     it back the same way, so a run is never carried on twice. Whenever a run may be
//     suspended, a hint file beside the store (RESUME_HINT_FILE) exists: the every-minute
//     cron tick looks for that file, not in the database, and opens the store only when
//     something may be waiting (a retry, or a gate whose timeout must be enforced).
// 10. Approval gates (decideGate): a run suspended at a gate (status awaiting_approval,
//     still holding its concurrency group, never marked lost) goes on only through
//     decideGate, which records each decision (who, when, from where, comment) and, in
//     the same durable transaction, ends the run rejected or, when the last needed
//     approval arrives, claims it for the decider: of any number of racing deciders,
//     exactly one gets the run. claimResume never takes a run at a gate whose recorded
//     decisions do not approve it (enough distinct approvers, or a timeout that approves).
//     A manual intervention is a gate too (settings.kind intervention): its one decision,
//     retry, ignore or abort, claims the run the same way (an aborted run is carried on to
//     end failed); an approval's verdicts are refused there, and its verdicts at an approval.
// 11. Notifications (a gate whose channel is not cli): suspendRun records the gate's
//     notification in the same durable transaction as the gate, so a trig that dies before
//     sending leaves it due for the next look. Of any number of callers that claim the same
//     due notification, exactly one gets each attempt (claimNotification counts it and moves
//     its next time on first, so an attempt that dies half way is retried later, never twice
//     at once). Approval links' tokens are stored as SHA-256 hashes only, with the name each
//     stands for; useApprovalToken marks one used once, whatever races.

import type { ChainLink } from '../shared/chain.js';
import type { InterventionDecision, RetryPolicy } from '../shared/retry.js';

export type { ChainLink };

export const EVENT_SOURCES = ['cli', 'hook', 'cron', 'http', 'replay', 'chain', 'watch'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'retrying',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
  'skipped',
  'blocked',
  'awaiting_approval',
  'rejected',
] as const;
export type StoredRunStatus = (typeof RUN_STATUSES)[number];
/** A run in one of these is not over: it has an owner process (a suspended one, `retrying` or `awaiting_approval`, may have none). */
export const ACTIVE_STATUSES: readonly StoredRunStatus[] = ['queued', 'waiting', 'running', 'retrying', 'awaiting_approval'];
/** The statuses of a run that holds its concurrency group. */
export const HOLDING_STATUSES: readonly StoredRunStatus[] = ['queued', 'running', 'retrying', 'awaiting_approval'];
/** A suspended run: it waits to be resumed (guarantee 9) or decided (guarantee 10), whether its owner lives or not. */
export const SUSPENDED_STATUSES: readonly StoredRunStatus[] = ['retrying', 'awaiting_approval'];

/** The last this many bytes of each run's output are kept. */
export const LOG_LIMIT_BYTES = 1024 * 1024;

/** What a log line weighs against LOG_LIMIT_BYTES: its UTF-8 bytes and a newline. */
export function logLineBytes(text: string): number {
  return Buffer.byteLength(text) + 1;
}
/** The automatic bound: older events (and their runs and logs) are pruned beyond it. */
export const KEEP_EVENTS = 10_000;

export interface DecisionRecord {
  file: string;
  definition: string;
  matched: boolean;
  /** Why it matched or did not (the --explain text). */
  reason: string;
}

export interface NewEvent {
  /** The caller's id for it (12 hex digits), so that run keys can name it before it is stored; random when absent. */
  id?: string;
  name: string;
  source: EventSource;
  at: Date;
  /** Identifies the delivery: the same (source, key) is admitted once. */
  deliveryKey?: string;
  /** Where the definitions were loaded from (absolute paths), for `trig runs` here. */
  places: readonly string[];
  payload: unknown;
  /** `payload` as JSON text when the caller holds that already (a request's body): stored as it is rather than made again. */
  payloadJson?: string;
  /** The request headers needed to replay an HTTP delivery. */
  headers?: Record<string, string>;
  /** The event this one replays. */
  replayOf?: string;
  /** Other facts about the event worth showing (caughtUp, the schedule slot, …). */
  details?: Record<string, unknown>;
}

export type Admission = { duplicate: false; eventId: string; runs: AddedRun[] } | { duplicate: true; eventId: string };

/** What an event starts, recorded with it (dispatchEvent's arguments). */
export interface Dispatch {
  decisions: readonly DecisionRecord[];
  runs: readonly NewRun[];
  owner: Owner;
}

export interface NewRun {
  /** The same key twice is one run (see guarantee 2). */
  key: string;
  file: string;
  definition: string;
  group?: { name: string; cancelInProgress: boolean };
}

export type AddedRun = { id: string; added: true } | { id: string; added: false; status: StoredRunStatus };

/** The process that owns a run while it is not over. */
export interface Owner {
  host: string;
  pid: number;
  /** When the process started (from /proc), so that a reused pid is not taken for it. */
  startedAt: string;
}

export type Claim = 'run' | 'wait' | 'cancelled';

/**
 * A step's process group, and when its leader started (from /proc; '' where that cannot be
 * read): a group is stopped only while its leader is the same process, never a pid reused since.
 */
export interface ProcessGroup {
  pgid: number;
  startedAt: string;
}

/** One try of a step that was retried (on-failure action retry). */
export interface AttemptRecord {
  attempt: number;
  status: string;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
}

export interface StepRecord {
  stage: string;
  name: string | null;
  status: string;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
  /** Every try, first to last, when the step was retried; the step's own fields are the last one's. */
  attempts?: readonly AttemptRecord[];
}

/**
 * Where a suspended run goes on from, and why it stopped there. `retry`: a step failed and
 * its on-failure retry waits before the next attempt. `approval`: the run waits at a gate
 * (an approval, or a failed step's manual intervention).
 */
export interface ResumePoint {
  kind: 'retry' | 'approval';
  /** The stage's index in the plan (-1: the definition's own gate). */
  stage: number;
  /** The step's indexes: in the stage's steps, then in each group's steps. */
  path: number[];
  /** The step's name (`group/step`), to check the plan and to say which step. */
  step: string;
  /** The attempt to run when resumed (2 for the first retry). */
  attempt: number;
  /** The tries so far, first to last. */
  attempts: AttemptRecord[];
  /** The results of the stages and steps before the step, in order. */
  steps: StepRecord[];
  /** When the run may go on (ISO-8601); at a gate, its deadline. */
  at: string;
  /** kind approval: the gate's id. */
  gate?: string;
  /** kind approval, once decided: who approved it (the gate's entry's reason when the run goes on). */
  approved?: string;
  /** At a manual intervention, once decided: what. */
  decision?: InterventionDecision;
  /** The attempts before the current round of retries (a person's retry starts a round). */
  round?: number;
  /** The current round's retry settings when they are not the step's own (a timeout-action's). */
  retryPolicy?: RetryPolicy;
  /** At a manual intervention whose timeout-action retries: how. */
  timeoutRetry?: RetryPolicy;
}

/**
 * A gate's settings as recorded (the definition's, defaults filled in). `kind` intervention:
 * a failed step waits for a person to decide retry, ignore or abort (one decision, anyone's);
 * absent: an approval.
 */
export interface GateSettings {
  kind?: 'intervention';
  uses: string;
  timeout: string;
  timeoutAction: GateVerdict;
  minApprovers: number;
  /** Who may approve; empty: anyone. */
  approvers: string[];
  /** The channel's own settings as written in the definition (a URL, recipients; secrets only as TRIG_SECRET_* references). */
  channel?: Record<string, unknown>;
}

/** A gate's notification through its channel (guarantee 11). */
export interface StoredNotification {
  channel: string;
  /** Attempts started so far. */
  attempts: number;
  /** The last failure, one line, masked by the caller; null once delivered or before the first try. */
  lastError: string | null;
  /** When the next attempt is due; null once delivered or given up. */
  nextAt: Date | null;
  deliveredAt: Date | null;
}

/** What a notification attempt came to. */
export type NotificationResult = { delivered: Date } | { error: string; retryAt: Date | null };

/** An approval link's token as stored: its SHA-256 (hex), never the token. */
export interface ApprovalToken {
  hash: string;
  /** The approver it stands for; '' for the token of a gate anyone may approve. */
  name: string;
  usedAt: Date | null;
}

/** Where a decision came from: a person at the command line or over HTTP (a link, the page), or the gate's timeout. */
export type DecisionSource = 'cli' | 'http' | 'timeout';

/** What a decision on an approval says (approve, reject), or on a manual intervention (retry, ignore, abort). */
export type GateVerdict = 'approve' | 'reject' | InterventionDecision;

export interface GateDecision {
  verdict: GateVerdict;
  /** Who: a person's name, or `timeout`. */
  by: string;
  /** When (ISO-8601). */
  at: string;
  from: DecisionSource;
  comment?: string;
}

/** What suspendRun records for a run that stops at a gate. */
export interface NewGate {
  /** The step or stage (`group/step`, a stage's name, or `(definition)`). */
  step: string;
  /** Resolved and masked. */
  message?: string;
  settings: GateSettings;
  /** Record a notification through the gate's channel, due at once (guarantee 11). */
  notify?: boolean;
}

export interface StoredGate {
  id: string;
  runId: string;
  definition: string;
  file: string;
  eventName: string;
  step: string;
  message: string | null;
  settings: GateSettings;
  deadline: Date;
  createdAt: Date;
  decisions: GateDecision[];
  /** null while it waits; at a manual intervention, the decision. */
  outcome: 'approved' | 'rejected' | InterventionDecision | null;
  /** Its run's status (awaiting_approval while the gate waits). */
  runStatus: StoredRunStatus;
  /** Its channel's notification, when it has one. */
  notification: StoredNotification | null;
}

/** What deciding a gate did. */
export type GateOutcome =
  | { refused: string }
  /** The approval is recorded; more are needed. */
  | { waiting: StoredGate }
  /** The run ended rejected. */
  | { rejected: StoredGate }
  /** The last needed approval: the run is claimed for the decider, to carry on. */
  | { approved: StoredGate; claimed: ClaimedRun }
  /** A manual intervention decided (retry, ignore, or abort: the run ends failed): the run is claimed for the decider, to carry on. */
  | { intervened: StoredGate; claimed: ClaimedRun };

/**
 * What planning the run again needs, recorded with a suspended run (never a secret:
 * secrets are read again from the resuming trig's TRIG_SECRET_* variables). The event's
 * payload is recorded with the event.
 */
export interface RunSnapshot {
  /** The definition's document as data, as it was loaded (the run goes on with the plan it had, whatever the file says now). */
  document: unknown;
  index: number;
  /** The matched event (the fired one, or one derived from it, as comment_mention). */
  event: string;
  /** The trigger fields the run read, without the raw payload (the event's). */
  trigger: Record<string, unknown>;
  /** The `--input` values given (a secret input's value is a reference, never the secret). */
  inputs: Record<string, string>;
  workdir: string;
  containerRuntime: string;
  /** --timeout, which bounds the run from its start. */
  timeoutMs?: number;
  quiet: boolean;
  chainDepth: number;
}

/** What suspendRun records: where the run stops, what it needs to go on, and who waits for it. */
export interface Suspension {
  resume: ResumePoint;
  snapshot: RunSnapshot;
  /** The step results so far (the one it stops at last). */
  steps: readonly StepRecord[];
  /** For trig runs. */
  reason: string;
  /** The process that waits and claims it back itself; null hands it over. */
  owner: Owner | null;
  /** With resume.kind approval (and resume.gate, its id): the run waits at this gate (status awaiting_approval). */
  gate?: NewGate;
}

/** A suspended run: what the resumer needs to see whether it may take it. */
export interface ResumableRun {
  id: string;
  resumeAt: Date;
  /** The process that suspended it and waits to go on itself; null when it handed the run over. */
  owner: Owner | null;
}

/** A run claimed for resuming, with where it goes on from. */
export interface ClaimedRun {
  run: StoredRun;
  resume: ResumePoint;
  snapshot: RunSnapshot;
}

export interface RunEnd {
  status: StoredRunStatus;
  exitCode: number | null;
  reason?: string;
  steps: readonly StepRecord[];
}

export interface LogLine {
  /** The step's path (`build/test`), or null for what concerns the whole run. */
  step: string | null;
  text: string;
}

export interface StoredRun {
  id: string;
  eventId: string;
  eventName: string;
  file: string;
  definition: string;
  status: StoredRunStatus;
  reason: string | null;
  group: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  exitCode: number | null;
  steps: StepRecord[];
  pid: number | null;
  pgids: number[];
  logBytes: number;
  logDroppedBytes: number;
  /** The runs that led to this one (its event's details.chain): empty unless a chained event started it. */
  chain: ChainLink[];
}

export interface StoredEvent {
  id: string;
  name: string;
  source: EventSource;
  at: Date;
  deliveryKey: string | null;
  places: string[];
  payload: unknown;
  headers: Record<string, string> | null;
  replayOf: string | null;
  details: Record<string, unknown>;
  decisions: DecisionRecord[];
  /** Decided: its decisions and runs are recorded. */
  dispatched: boolean;
  runs: string[];
}

export interface UndispatchedEvent extends StoredEvent {
  /** Its place in the order events were admitted (rising): listUndispatched's `after`. */
  seq: number;
}

export interface StoredLogLine extends LogLine {
  seq: number;
  at: Date;
}

export interface RunFilter {
  limit?: number;
  status?: StoredRunStatus;
  definition?: string;
  event?: string;
  since?: Date;
  /** Runs of events whose definitions came from these places (files or folders, either inside the other); every run when absent. */
  places?: readonly string[];
}

export type Found<T> = { found: T } | { missing: string };

export interface Store {
  /** Records the event, and with `dispatch` its decisions and runs in the same transaction (runs: [] without). */
  admitEvent(event: NewEvent, dispatch?: Dispatch): Promise<Admission>;
  /**
   * Events admitted without a dispatch, each as admitEvent would, in order (a delivery key
   * repeated in the list is a duplicate of its first), in one write that is durable when
   * it returns: all of them or none. The HTTP receiver's group commit: the deliveries that
   * arrive together are synced to disk once.
   */
  admitEvents(events: readonly NewEvent[]): Promise<Admission[]>;
  /** The decisions of an admitted event and the runs they start (queued, owned by owner). */
  dispatchEvent(eventId: string, decisions: readonly DecisionRecord[], runs: readonly NewRun[], owner: Owner): Promise<AddedRun[]>;
  /**
   * Events of this source admitted without a dispatch and not dispatched since, oldest
   * first (guarantee 7); with `after`, only those admitted after the one of that seq.
   */
  listUndispatched(options: { source: EventSource; limit?: number; after?: number }): Promise<UndispatchedEvent[]>;
  /** How many events listUndispatched would list. */
  countUndispatched(source: EventSource): Promise<number>;
  /** Whether a queued or waiting run may start now, must wait for its group, or was cancelled (see guarantee 3). */
  claimRun(runId: string, owner: Owner): Promise<Claim>;
  trackProcess(runId: string, group: ProcessGroup, alive: boolean): Promise<void>;
  /** Adds lines to a run's log; `droppedBytes` counts lines the caller dropped before them (over the cap anyway). */
  appendLog(runId: string, lines: readonly LogLine[], droppedBytes?: number): Promise<void>;
  finishRun(runId: string, end: RunEnd): Promise<void>;
  /** Of these runs, the ones asked to stop (cancel-in-progress of a newer run in their group), and why. */
  cancelRequested(runIds: readonly string[]): Promise<{ runId: string; reason: string }[]>;
  /**
   * The run stops at a resume point (status retrying, the step results so far, `reason`
   * for trig runs). `owner` waits and claims it back itself; null hands it over to whoever
   * resumes it after resume.at (guarantee 9).
   */
  suspendRun(runId: string, suspension: Suspension): Promise<void>;
  /** The runs waiting for a retry (status retrying), soonest first; clears the hint file when no run is suspended. */
  resumableRuns(): Promise<ResumableRun[]>;
  /** The gates that wait for a decision, oldest first. */
  listGates(): Promise<StoredGate[]>;
  /** A gate (waiting or decided) by a unique start of its id. */
  findGate(idPrefix: string): Promise<Found<StoredGate>>;
  /** Records a decision on a waiting gate, and its consequence for the run (guarantee 10). */
  decideGate(gateId: string, decision: GateDecision, owner: Owner): Promise<GateOutcome>;
  /**
   * Claims a suspended run (guarantee 9): it becomes running, owned by `owner`, only if it is
   * still suspended by `from` (null: handed over), and, with `dueBy`, due by then.
   */
  claimResume(runId: string, claim: { owner: Owner; from: Owner | null; dueBy?: Date }): Promise<ClaimedRun | undefined>;
  /** The gates whose notification is due by `now` (not delivered, not given up), while they wait. */
  dueNotifications(now: Date): Promise<string[]>;
  /**
   * Claims the next attempt of a due notification (guarantee 11): counts it and moves its
   * next time to `retryAt`, only if it is still due by `now`; undefined when another took it.
   */
  claimNotification(gateId: string, claim: { now: Date; retryAt: Date }): Promise<StoredNotification | undefined>;
  /** Records what an attempt came to (an error is retried at retryAt, or given up with null). */
  finishNotification(gateId: string, result: NotificationResult): Promise<void>;
  /** Stores the hashes of approval links' tokens minted for a gate. */
  addApprovalTokens(gateId: string, tokens: readonly { hash: string; name: string }[]): Promise<void>;
  /** The stored tokens of a gate (its hashes). */
  approvalTokens(gateId: string): Promise<ApprovalToken[]>;
  /** Marks a token used; false when it was used already (one caller wins, whatever races). */
  useApprovalToken(gateId: string, hash: string, at: Date): Promise<boolean>;
  /** Runs of this host whose owner process is gone are marked lost (retrying ones excepted); their process groups are returned. */
  reapLost(isAlive: (owner: Owner) => boolean): Promise<{ runId: string; groups: ProcessGroup[] }[]>;

  listRuns(filter: RunFilter): Promise<StoredRun[]>;
  findRun(idPrefix: string): Promise<Found<StoredRun>>;
  readLog(runId: string, options?: { step?: string; afterSeq?: number }): Promise<StoredLogLine[]>;
  listEvents(options: { limit?: number; places?: readonly string[] }): Promise<StoredEvent[]>;
  findEvent(idPrefix: string): Promise<Found<StoredEvent>>;
  /** Events (with their runs and logs) older than the date, or beyond the newest `keep`; events not yet dispatched, and runs not over, are kept. */
  prune(options: { before?: Date; keep?: number }): Promise<{ events: number; runs: number }>;
  close(): void;
}
