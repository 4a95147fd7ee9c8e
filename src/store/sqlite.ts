import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreBusyError } from '../shared/errors.js';
import { oneLine } from '../shared/printable.js';
import { INTERVENTION_DECISIONS, type InterventionDecision } from '../shared/retry.js';
import { newEventId, runIdOf } from './ids.js';
import { MIGRATIONS } from './migrations.js';
import { clearResumeHint, preparePlace, setResumeHint, StorePlaceError } from './place.js';
import type { StoreSharing, ThreadLock } from './thread-lock.js';
import {
  ACTIVE_STATUSES,
  HOLDING_STATUSES,
  KEEP_EVENTS,
  SUSPENDED_STATUSES,
  type GateDecision,
  type GateOutcome,
  type GateSettings,
  type ApprovalToken,
  type NotificationResult,
  type StoredNotification,
  type Suspension,
  type StoredGate,
  LOG_LIMIT_BYTES,
  logLineBytes,
  type AddedRun,
  type ChainLink,
  type Admission,
  type Claim,
  type ClaimedRun,
  type UndispatchedEvent,
  type ResumableRun,
  type ResumePoint,
  type RunSnapshot,
  type StepRecord,
  type DecisionRecord,
  type Dispatch,
  type EventSource,
  type Found,
  type LogLine,
  type NewEvent,
  type NewRun,
  type Owner,
  type ProcessGroup,
  type RunEnd,
  type RunFilter,
  type Store,
  type StoredEvent,
  type StoredLogLine,
  type StoredRun,
  type StoredRunStatus,
} from './store.js';

// The SQLite adapter of the store: one file, WAL mode (readers never wait for the writer),
// every write one short IMMEDIATE transaction (so that two writers queue on the busy
// timeout instead of failing). Admitting and dispatching an event with a delivery key is
// synced to disk (synchronous=FULL: it survives power loss, and the HTTP receiver
// acknowledges a delivery only after that); an event without one, and a run's life after it (claim, process groups, log lines, end) is
// committed without waiting for the disk (synchronous=NORMAL: it survives the process
// being killed, and is synced with the next durable write or when the store is closed).
// What power loss can take back is a run's latest progress: the run then shows as not
// over, with its owner gone, and is marked lost; it is never run again.

const BUSY_TIMEOUT_MS = 10_000;

// Events prune may delete: dispatched, with no run still to finish. Read through
// events_dispatched_by_time, so that a backlog of deliveries not dispatched yet is never
// read to learn that it stays (the automatic bound runs every 100 events).
const PRUNABLE = `dispatched = 1 AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event_id = events.id AND runs.status IN (${ACTIVE_STATUSES.map(() => '?').join(',')}))`;
/** Prunable events up to (received_at, rowid), oldest first; then the active statuses. */
export const PRUNABLE_UP_TO = `SELECT id FROM events WHERE (received_at, rowid) <= (?, ?) AND ${PRUNABLE}`;
/** Prunable events received before a time; then the active statuses. */
export const PRUNABLE_BEFORE = `SELECT id FROM events WHERE received_at < ? AND ${PRUNABLE}`;

/**
 * A fresh database is built under a name of its own (schema, then WAL mode, which needs
 * the file to itself) and linked into place; link(2) fails when another process got there
 * first, and the loser opens the winner's file. No two processes ever set up the same file
 * concurrently, which is what made WAL setup throw SQLITE_BUSY.
 */
function createFresh(file: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  closeSync(fd);
  try {
    const db = new Database(temporary);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db);
    } finally {
      db.close();
    }
    try {
      linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(temporary + suffix, { force: true });
  }
}

function migrate(db: Database.Database): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StorePlaceError(
        `the store ${db.name} has schema version ${version}, newer than this trig knows (${MIGRATIONS.length}); upgrade trig`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (version !== MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  run.immediate();
}

export interface SqliteStoreOptions {
  /** The automatic bound (default KEEP_EVENTS): a lower one lets tests see it act. */
  keepEvents?: number;
  /** Shared with this process's other connections (another thread's) that write: see thread-lock.ts. */
  sharing?: StoreSharing;
  /** How long a write waits for another process's (default BUSY_TIMEOUT_MS): a lower one lets tests see it give up. */
  busyTimeoutMs?: number;
}

/**
 * A lock another connection held: SQLITE_BUSY (or _TIMEOUT) once the busy timeout is spent;
 * another SQLITE_BUSY_* (a recovery under way) comes at once. Either way nothing was written.
 */
function busyError(error: unknown, file: string, timeoutMs: number): StoreBusyError | undefined {
  const code = String((error as { code?: unknown }).code);
  if (!code.startsWith('SQLITE_BUSY')) return undefined;
  const why =
    code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_TIMEOUT'
      ? `stayed locked by another process for more than ${timeoutMs / 1000} s`
      : `was busy (${code})`;
  return new StoreBusyError(`the store ${file} ${why}; nothing was written: try again`);
}

export function openSqliteStore(dir: string, options: SqliteStoreOptions = {}): Store {
  const file = preparePlace(dir);
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  let db: Database.Database;
  try {
    try {
      db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    } catch (error) {
      if (!/unable to open database file|does not exist/i.test((error as Error).message)) throw error;
      createFresh(file);
      preparePlace(dir);
      db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if ((db.pragma('user_version', { simple: true }) as number) !== MIGRATIONS.length) migrate(db);
  } catch (error) {
    if (error instanceof StorePlaceError) throw error;
    const busy = busyError(error, file, busyTimeoutMs);
    if (busy) throw busy;
    // The binding's compiled addon is required on first use (scripts/build.mjs).
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new StorePlaceError('the store needs the better-sqlite3 package, which is not installed beside trig (run npm install)');
    }
    throw new StorePlaceError(`cannot open the store ${file}: ${(error as Error).message}`);
  }
  const store = new SqliteStore(db, options.keepEvents ?? KEEP_EVENTS, dir, options.sharing?.lock, busyTimeoutMs);
  const checkpointMs = options.sharing?.walCheckpointEveryMs;
  if (checkpointMs !== undefined) store.checkpointEvery(checkpointMs);
  return store;
}

interface RunRow {
  id: string;
  event_id: string;
  event_name: string;
  file: string;
  definition: string;
  status: StoredRunStatus;
  reason: string | null;
  group_name: string | null;
  queued_at: number;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  steps: string | null;
  owner_pid: number | null;
  pgids: string;
  log_bytes: number;
  log_dropped: number;
  places: string;
  event_details: string;
}

interface EventRow {
  id: string;
  name: string;
  source: StoredEvent['source'];
  received_at: number;
  delivery_key: string | null;
  places: string;
  payload: string;
  headers: string | null;
  replay_of: string | null;
  details: string;
  decisions: string;
  dispatched: number;
}

const RUN_COLUMNS = `runs.id, runs.event_id, events.name AS event_name, runs.file, runs.definition, runs.status, runs.reason,
  runs.group_name, runs.queued_at, runs.started_at, runs.ended_at, runs.exit_code, runs.steps, runs.owner_pid, runs.pgids,
  runs.log_bytes, runs.log_dropped, events.places, events.details AS event_details`;

interface GateRow {
  id: string;
  run_id: string;
  definition: string;
  file: string;
  event_name: string;
  step: string;
  message: string | null;
  settings: string;
  deadline: number;
  created_at: number;
  decisions: string;
  outcome: 'approved' | 'rejected' | null;
  run_status: StoredRunStatus;
  channel: string | null;
  attempts: number | null;
  last_error: string | null;
  next_at: number | null;
  delivered_at: number | null;
}

const GATE_COLUMNS = `gates.*, runs.definition, runs.file, runs.status AS run_status, events.name AS event_name,
  notifications.channel, notifications.attempts, notifications.last_error, notifications.next_at, notifications.delivered_at`;
const GATE_FROM =
  'gates JOIN runs ON runs.id = gates.run_id JOIN events ON events.id = runs.event_id LEFT JOIN notifications ON notifications.gate_id = gates.id';

type NotificationRow = Pick<GateRow, 'channel' | 'attempts' | 'last_error' | 'next_at' | 'delivered_at'>;

function toNotification(row: NotificationRow): StoredNotification | null {
  if (row.channel === null) return null;
  const date = (ms: number | null) => (ms === null ? null : new Date(ms));
  return {
    channel: row.channel,
    attempts: row.attempts ?? 0,
    lastError: row.last_error,
    nextAt: date(row.next_at),
    deliveredAt: date(row.delivered_at),
  };
}

function toGate(row: GateRow): StoredGate {
  return {
    id: row.id,
    runId: row.run_id,
    definition: row.definition,
    file: row.file,
    eventName: row.event_name,
    step: row.step,
    message: row.message,
    settings: JSON.parse(row.settings) as GateSettings,
    deadline: new Date(row.deadline),
    createdAt: new Date(row.created_at),
    decisions: JSON.parse(row.decisions) as GateDecision[],
    outcome: row.outcome,
    runStatus: row.run_status,
    notification: toNotification(row),
  };
}

/** The distinct names that approved (a timeout that approves stands for every approval needed). */
function approvalsOf(gate: StoredGate): { names: string[]; passed: boolean } {
  const decisions = gate.decisions;
  const names = [...new Set(decisions.filter((d) => d.verdict === 'approve' && d.from !== 'timeout').map((d) => d.by))];
  const byTimeout = decisions.some((d) => d.verdict === 'approve' && d.from === 'timeout');
  const rejected = decisions.some((d) => d.verdict === 'reject');
  return { names, passed: !rejected && (byTimeout || names.length >= gate.settings.minApprovers) };
}

/**
 * Whether a gate's recorded decisions let its run be carried on: an approval approved, a
 * manual intervention decided (by one decision; abort too: the run is carried on to end
 * failed there, so that its end fires what a failed run's does).
 */
function passedBy(gate: StoredGate): boolean {
  if (gate.settings.kind !== 'intervention') return gate.outcome === 'approved' && approvalsOf(gate).passed;
  const [decision, ...more] = gate.decisions;
  return !more.length && decision !== undefined && decision.verdict === gate.outcome;
}

/** Why a person's decision on a waiting gate is refused, if it is. */
function refusal(gate: StoredGate, decision: GateDecision): string | undefined {
  const intervention = gate.settings.kind === 'intervention';
  if (intervention !== (INTERVENTION_DECISIONS as readonly string[]).includes(decision.verdict))
    return intervention
      ? `gate ${gate.id} waits for manual intervention, not approval: trig intervene ${gate.id} retry|ignore|abort`
      : `gate ${gate.id} is an approval: trig approve ${gate.id} or trig reject ${gate.id}`;
  if (decision.from === 'timeout') return undefined;
  const { approvers } = gate.settings;
  if (approvers.length && !approvers.includes(decision.by))
    return `${quoted(decision.by)} may not decide gate ${gate.id}: its approvers are ${approvers.map(quoted).join(', ')}`;
  if (gate.decisions.some((d) => d.by === decision.by))
    return `${quoted(decision.by)} has decided gate ${gate.id} already: min-approvers counts distinct names`;
  return undefined;
}

function toRun(row: RunRow): StoredRun {
  const date = (ms: number | null) => (ms === null ? null : new Date(ms));
  return {
    id: row.id,
    eventId: row.event_id,
    eventName: row.event_name,
    file: row.file,
    definition: row.definition,
    status: row.status,
    reason: row.reason,
    group: row.group_name,
    queuedAt: new Date(row.queued_at),
    startedAt: date(row.started_at),
    endedAt: date(row.ended_at),
    exitCode: row.exit_code,
    steps: row.steps ? (JSON.parse(row.steps) as StoredRun['steps']) : [],
    pid: row.owner_pid,
    pgids: (JSON.parse(row.pgids) as ProcessGroup[]).map((g) => g.pgid),
    logBytes: row.log_bytes,
    logDroppedBytes: row.log_dropped,
    chain: chainOf(row.event_details),
  };
}

/** A group name inside a reason: quoted, on one line, its control characters escaped (it may come from a payload). */
function quoted(name: string): string {
  return oneLine(JSON.stringify(name));
}

/** The chain an event's details hold (set by the fire core for chained events), else none. */
function chainOf(details: string): ChainLink[] {
  const chain = (JSON.parse(details) as { chain?: unknown }).chain;
  return Array.isArray(chain) ? (chain as ChainLink[]) : [];
}

/** LIKE with the prefix taken literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Whether `file` is one of the places or inside one of them. */
function within(file: string, places: readonly string[]): boolean {
  return places.some((place) => file === place || file.startsWith(place.endsWith(path.sep) ? place : place + path.sep));
}

/** Whether one of the places `a` is one of `b`, inside one of them, or holds one. */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  return a.some((p) => within(p, b) || b.some((q) => within(q, [p])));
}

class SqliteStore implements Store {
  constructor(
    private readonly db: Database.Database,
    private readonly keepEvents: number,
    private readonly dir: string,
    private readonly threadLock: ThreadLock | undefined,
    private readonly busyTimeoutMs: number,
  ) {}

  /** Prepared statements by their SQL: preparing one costs more than running it. */
  private readonly statements = new Map<string, Database.Statement>();

  /**
   * The statement for `sql`, prepared once per connection and returned as new: not plucked
   * (a caller that plucks says so again). Not for a statement iterated while the same SQL
   * may run again inside the loop (one statement runs one query at a time).
   */
  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    } else if (statement.reader) {
      statement.pluck(false);
    }
    return statement;
  }

  private write<T>(fn: () => T): T {
    const held = this.threadLock?.acquire(this.busyTimeoutMs) ?? false;
    try {
      return this.db.transaction(fn).immediate();
    } catch (error) {
      // Rolled back: nothing of this write happened, and trying again later is safe.
      throw busyError(error, this.db.name, this.busyTimeoutMs) ?? error;
    } finally {
      if (held) this.threadLock!.release();
    }
  }

  /** A write that is on disk when it returns (see the top of this file). */
  private writeDurably<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return this.write(fn);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  admitEvent(event: NewEvent, dispatch?: Dispatch): Promise<Admission> {
    // Exactly once rests on the delivery key being on disk; an event without one promises no
    // more than a run's later progress does (guarantee 6), and spares the fire a sync.
    const admit = () => this.admit(event, dispatch);
    return Promise.resolve(event.deliveryKey !== undefined ? this.writeDurably(admit) : this.write(admit));
  }

  admitEvents(events: readonly NewEvent[]): Promise<Admission[]> {
    return Promise.resolve(this.writeDurably(() => events.map((event) => this.admit(event))));
  }

  private admit(event: NewEvent, dispatch?: Dispatch): Admission {
    if (event.deliveryKey !== undefined) {
      const existing = this.prepared('SELECT id FROM events WHERE source = ? AND delivery_key = ?')
        .pluck()
        .get(event.source, event.deliveryKey) as string | undefined;
      if (existing) return { duplicate: true, eventId: existing };
    }
    const id = event.id ?? newEventId();
    const { lastInsertRowid } = this.prepared(
      `INSERT INTO events (id, name, source, received_at, delivery_key, places, payload, headers, replay_of, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      event.name,
      event.source,
      event.at.getTime(),
      event.deliveryKey ?? null,
      JSON.stringify(event.places),
      event.payloadJson ?? JSON.stringify(event.payload ?? {}),
      event.headers ? JSON.stringify(event.headers) : null,
      event.replayOf ?? null,
      JSON.stringify(event.details ?? {}),
    );
    // The automatic bound, checked every 100 events rather than on each (every
    // keepEvents when that is lower, so that a small bound holds too).
    if (Number(lastInsertRowid) % Math.min(100, this.keepEvents) === 0) this.pruneBeyond(this.keepEvents);
    const runs = dispatch ? this.dispatch(id, dispatch.decisions, dispatch.runs, dispatch.owner) : [];
    return { duplicate: false, eventId: id, runs };
  }

  dispatchEvent(eventId: string, decisions: readonly DecisionRecord[], runs: readonly NewRun[], owner: Owner): Promise<AddedRun[]> {
    // Synced before any run it adds can start: a power cut must not leave a run that started
    // unknown, to be decided and run again. A decision that starts nothing can be lost and
    // taken again (the event stays admitted, undispatched): it is not worth a sync.
    const dispatch = () => this.dispatch(eventId, decisions, runs, owner);
    return Promise.resolve(runs.length ? this.writeDurably(dispatch) : this.write(dispatch));
  }

  countUndispatched(source: EventSource): Promise<number> {
    return Promise.resolve(this.prepared('SELECT count(*) FROM events WHERE dispatched = 0 AND source = ?').pluck().get(source) as number);
  }

  listUndispatched(options: { source: EventSource; limit?: number; after?: number }): Promise<UndispatchedEvent[]> {
    const rows = this.prepared(
      'SELECT rowid AS seq, * FROM events WHERE dispatched = 0 AND source = ? AND rowid > ? ORDER BY rowid LIMIT ?',
    ).all(options.source, options.after ?? 0, options.limit ?? -1) as (EventRow & { seq: number })[];
    // Undispatched: no run is recorded for it yet.
    return Promise.resolve(rows.map((row) => ({ ...this.toEvent(row, []), seq: row.seq })));
  }

  private dispatch(eventId: string, decisions: readonly DecisionRecord[], runs: readonly NewRun[], owner: Owner): AddedRun[] {
    this.prepared('UPDATE events SET decisions = ?, dispatched = 1 WHERE id = ?').run(JSON.stringify(decisions), eventId);
    const now = Date.now();
    const insert = this.prepared(
      `INSERT INTO runs (id, event_id, file, definition, status, group_name, cancel_in_progress, queued_at, owner_host, owner_pid, owner_start)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return runs.map((run): AddedRun => {
      const id = runIdOf(run.key);
      const existing = this.prepared('SELECT status FROM runs WHERE id = ?').pluck().get(id) as StoredRunStatus | undefined;
      if (existing) return { id, added: false, status: existing };
      const group = run.group;
      const status = group ? this.arrive(id, group) : 'queued';
      insert.run(
        id,
        eventId,
        run.file,
        run.definition,
        status,
        group?.name ?? null,
        group?.cancelInProgress ? 1 : 0,
        now,
        owner.host,
        owner.pid,
        owner.startedAt,
      );
      return { id, added: true };
    });
  }

  /**
   * A run of a concurrency group arrives (GitHub Actions' rule, decided when the run is
   * queued, as GitHub does): the group's waiting run, if any, is superseded by it; with
   * cancel-in-progress, the run that holds the group is cancelled too (asked to stop when it
   * is running, cancelled outright when it has not started). The new run holds the group
   * (`queued`: it starts when its fire gets to it) when no other one does, else it waits.
   */
  private arrive(id: string, group: { name: string; cancelInProgress: boolean }): 'queued' | 'waiting' {
    const byNewer = `superseded by run ${id}, newer in concurrency group ${quoted(group.name)}`;
    for (const waiting of this.groupRuns(group.name, ['waiting'])) {
      this.end(waiting.id, { status: 'cancelled', exitCode: null, reason: byNewer, steps: [] });
    }
    let holders = this.groupRuns(group.name, HOLDING_STATUSES);
    if (group.cancelInProgress && holders.length) {
      const reason = `cancelled by run ${id}, newer in concurrency group ${quoted(group.name)} (cancel-in-progress)`;
      for (const holder of holders) {
        // A run waiting for a retry is stopped at once: it has no process to ask.
        if (holder.status === 'queued' || SUSPENDED_STATUSES.includes(holder.status))
          this.end(holder.id, { status: 'cancelled', exitCode: null, reason, steps: [] });
        else this.prepared('UPDATE runs SET cancel_requested = ? WHERE id = ? AND cancel_requested IS NULL').run(reason, holder.id);
      }
      holders = holders.filter((holder) => holder.status === 'running');
    }
    return holders.length ? 'waiting' : 'queued';
  }

  private groupRuns(name: string, statuses: readonly StoredRunStatus[]): { id: string; status: StoredRunStatus }[] {
    return this.prepared(
      `SELECT id, status FROM runs WHERE group_name = ? AND status IN (${statuses.map(() => '?').join(',')}) ORDER BY rowid`,
    ).all(name, ...statuses) as { id: string; status: StoredRunStatus }[];
  }

  claimRun(runId: string, owner: Owner): Promise<Claim> {
    return Promise.resolve(
      this.write((): Claim => {
        const run = this.prepared('SELECT status, group_name FROM runs WHERE id = ?').get(runId) as
          { status: StoredRunStatus; group_name: string | null } | undefined;
        if (!run || (run.status !== 'queued' && run.status !== 'waiting')) return 'cancelled';
        // A waiting run takes the group once no run holds it (the one it waited for ended).
        if (run.status === 'waiting' && this.groupRuns(run.group_name!, HOLDING_STATUSES).length) return 'wait';
        this.prepared(
          "UPDATE runs SET status = 'running', started_at = ?, owner_host = ?, owner_pid = ?, owner_start = ? WHERE id = ?",
        ).run(Date.now(), owner.host, owner.pid, owner.startedAt, runId);
        return 'run';
      }),
    );
  }

  trackProcess(runId: string, group: ProcessGroup, alive: boolean): Promise<void> {
    this.write(() => {
      const current = this.prepared('SELECT pgids FROM runs WHERE id = ?').pluck().get(runId) as string | undefined;
      if (current === undefined) return;
      const groups = (JSON.parse(current) as ProcessGroup[]).filter((g) => g.pgid !== group.pgid);
      if (alive) groups.push(group);
      this.prepared('UPDATE runs SET pgids = ? WHERE id = ?').run(JSON.stringify(groups), runId);
    });
    return Promise.resolve();
  }

  appendLog(runId: string, lines: readonly LogLine[], droppedBytes = 0): Promise<void> {
    if (!lines.length && !droppedBytes) return Promise.resolve();
    this.write(() => {
      const state = this.prepared('SELECT log_seq, log_bytes FROM runs WHERE id = ?').get(runId) as
        { log_seq: number; log_bytes: number } | undefined;
      if (!state) return;
      let { log_seq: seq, log_bytes: bytes } = state;
      const insert = this.prepared('INSERT INTO logs (run_id, seq, step, at, text, bytes) VALUES (?, ?, ?, ?, ?, ?)');
      const at = Date.now();
      for (const line of lines) {
        const size = logLineBytes(line.text);
        insert.run(runId, ++seq, line.step, at, line.text, size);
        bytes += size;
      }
      let dropped = 0;
      if (droppedBytes) {
        this.prepared('UPDATE runs SET log_dropped = log_dropped + ? WHERE id = ?').run(droppedBytes, runId);
      }
      if (bytes > LOG_LIMIT_BYTES) {
        // Drop whole lines from the start until the rest fits.
        const oldest = this.db.prepare('SELECT seq, bytes FROM logs WHERE run_id = ? ORDER BY seq').iterate(runId) as IterableIterator<{
          seq: number;
          bytes: number;
        }>;
        let upTo = 0;
        for (const row of oldest) {
          if (bytes - dropped <= LOG_LIMIT_BYTES) break;
          dropped += row.bytes;
          upTo = row.seq;
        }
        this.prepared('DELETE FROM logs WHERE run_id = ? AND seq <= ?').run(runId, upTo);
      }
      this.prepared('UPDATE runs SET log_seq = ?, log_bytes = ?, log_dropped = log_dropped + ? WHERE id = ?').run(
        seq,
        bytes - dropped,
        dropped,
        runId,
      );
    });
    return Promise.resolve();
  }

  private end(runId: string, end: RunEnd): void {
    this.prepared(
      `UPDATE runs SET status = ?, exit_code = ?, reason = ?, steps = ?, ended_at = ?, pgids = '[]', owner_pid = NULL,
         started_at = COALESCE(started_at, ?) WHERE id = ?`,
    ).run(end.status, end.exitCode, end.reason ?? null, JSON.stringify(end.steps), Date.now(), Date.now(), runId);
  }

  finishRun(runId: string, end: RunEnd): Promise<void> {
    this.write(() => this.end(runId, end));
    return Promise.resolve();
  }

  cancelRequested(runIds: readonly string[]): Promise<{ runId: string; reason: string }[]> {
    if (!runIds.length) return Promise.resolve([]);
    return Promise.resolve(
      this.prepared(
        `SELECT id AS runId, cancel_requested AS reason FROM runs WHERE id IN (${runIds.map(() => '?').join(',')}) AND cancel_requested IS NOT NULL`,
      ).all(...runIds) as { runId: string; reason: string }[],
    );
  }

  suspendRun(runId: string, suspension: Suspension): Promise<void> {
    const { resume, snapshot, steps, reason, owner, gate } = suspension;
    const atGate = resume.kind === 'approval';
    if (atGate && (!gate || resume.gate === undefined)) throw new Error('a run suspended at a gate needs the gate');
    // Durable: the process that suspends it may exit at once, leaving the run to the store.
    this.writeDurably(() => {
      const { changes } = this.prepared(
        `UPDATE runs SET status = ?, resume = ?, resume_at = ?, snapshot = ?, steps = ?, reason = ?,
           owner_host = ?, owner_pid = ?, owner_start = ?, pgids = '[]' WHERE id = ? AND status = 'running'`,
      ).run(
        atGate ? 'awaiting_approval' : 'retrying',
        JSON.stringify(resume),
        Date.parse(resume.at),
        JSON.stringify(snapshot),
        JSON.stringify(steps),
        reason,
        owner?.host ?? null,
        owner?.pid ?? null,
        owner?.startedAt ?? null,
        runId,
      );
      if (changes && atGate) {
        const now = Date.now();
        this.prepared('INSERT INTO gates (id, run_id, step, message, settings, deadline, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          resume.gate,
          runId,
          gate!.step,
          gate!.message ?? null,
          JSON.stringify(gate!.settings),
          Date.parse(resume.at),
          now,
        );
        // With the gate, in its transaction: a notification is never lost between the two (guarantee 11).
        if (gate!.notify)
          this.prepared('INSERT INTO notifications (gate_id, channel, next_at) VALUES (?, ?, ?)').run(
            resume.gate,
            gate!.settings.uses,
            now,
          );
      }
    });
    // After the commit: a resumer clears the hint before it looks (resumableRuns), so it
    // either sees this run or finds the hint set again.
    setResumeHint(this.dir);
    return Promise.resolve();
  }

  resumableRuns(): Promise<ResumableRun[]> {
    clearResumeHint(this.dir);
    const rows = this.prepared(
      "SELECT id, resume_at, owner_host, owner_pid, owner_start FROM runs WHERE status = 'retrying' ORDER BY resume_at, rowid",
    ).all() as { id: string; resume_at: number; owner_host: string | null; owner_pid: number | null; owner_start: string | null }[];
    // Gates keep the hint too: their timeouts are enforced by whoever looks next.
    if (rows.length || this.prepared("SELECT 1 FROM runs WHERE status = 'awaiting_approval' LIMIT 1").get()) setResumeHint(this.dir);
    return Promise.resolve(
      rows.map((row) => ({
        id: row.id,
        resumeAt: new Date(row.resume_at),
        owner: row.owner_pid === null ? null : { host: row.owner_host ?? '', pid: row.owner_pid, startedAt: row.owner_start ?? '' },
      })),
    );
  }

  claimResume(runId: string, claim: { owner: Owner; from: Owner | null; dueBy?: Date }): Promise<ClaimedRun | undefined> {
    const claimed = this.write(() => this.claim(runId, claim));
    return Promise.resolve(claimed && this.claimedRun(runId, claimed));
  }

  /** Takes a suspended run (inside a write transaction): see claimResume. A run at a gate only when its decisions approve it. */
  private claim(
    runId: string,
    claim: { owner: Owner; from: Owner | null; dueBy?: Date },
  ): { resume: ResumePoint; snapshot: RunSnapshot } | undefined {
    const { owner, from, dueBy } = claim;
    const row = this.prepared('SELECT status, resume, snapshot, resume_at, owner_host, owner_pid, owner_start FROM runs WHERE id = ?').get(
      runId,
    ) as
      | {
          status: StoredRunStatus;
          resume: string | null;
          snapshot: string | null;
          resume_at: number | null;
          owner_host: string | null;
          owner_pid: number | null;
          owner_start: string | null;
        }
      | undefined;
    if (!row || !SUSPENDED_STATUSES.includes(row.status) || row.resume === null || row.snapshot === null) return undefined;
    const resume = JSON.parse(row.resume) as ResumePoint;
    // Whatever the row says, a gate is passed only by the decisions recorded on it.
    if (row.status === 'awaiting_approval' || resume.kind === 'approval') {
      const gate = resume.gate === undefined ? undefined : this.gateById(resume.gate);
      if (!gate || gate.runId !== runId || !passedBy(gate)) return undefined;
    }
    const sameOwner =
      from === null
        ? row.owner_pid === null
        : row.owner_pid === from.pid && row.owner_host === from.host && row.owner_start === from.startedAt;
    if (!sameOwner) return undefined;
    if (dueBy && (row.resume_at ?? 0) > dueBy.getTime()) return undefined;
    this.prepared(
      `UPDATE runs SET status = 'running', resume = NULL, resume_at = NULL, snapshot = NULL, reason = NULL,
         owner_host = ?, owner_pid = ?, owner_start = ? WHERE id = ?`,
    ).run(owner.host, owner.pid, owner.startedAt, runId);
    return { resume, snapshot: JSON.parse(row.snapshot) as RunSnapshot };
  }

  private claimedRun(runId: string, claimed: { resume: ResumePoint; snapshot: RunSnapshot }): ClaimedRun {
    const run = toRun(
      this.prepared(`SELECT ${RUN_COLUMNS} FROM runs JOIN events ON events.id = runs.event_id WHERE runs.id = ?`).get(runId) as RunRow,
    );
    return { run, ...claimed };
  }

  private gateById(id: string): StoredGate | undefined {
    const row = this.prepared(`SELECT ${GATE_COLUMNS} FROM ${GATE_FROM} WHERE gates.id = ?`).get(id) as GateRow | undefined;
    return row && toGate(row);
  }

  listGates(): Promise<StoredGate[]> {
    const rows = this.prepared(
      `SELECT ${GATE_COLUMNS} FROM ${GATE_FROM} WHERE gates.outcome IS NULL AND runs.status = 'awaiting_approval' ORDER BY gates.created_at, gates.rowid`,
    ).all() as GateRow[];
    return Promise.resolve(rows.map(toGate));
  }

  findGate(idPrefix: string): Promise<Found<StoredGate>> {
    return Promise.resolve(this.findBy('gates', idPrefix, (id) => this.gateById(id)!));
  }

  decideGate(gateId: string, decision: GateDecision, owner: Owner): Promise<GateOutcome> {
    // Durable, as suspending is: a decision said to be recorded is on disk.
    const outcome = this.writeDurably(
      (): GateOutcome | { approvedGate: StoredGate; claimed: { resume: ResumePoint; snapshot: RunSnapshot } } => {
        const gate = this.gateById(gateId);
        if (!gate) return { refused: `no gate ${gateId}` };
        if (gate.outcome !== null) {
          const by = [...new Set(gate.decisions.map((d) => d.by))].map((name) => oneLine(name)).join(', ');
          return { refused: `gate ${gate.id} is decided already: ${gate.outcome} (by ${by})` };
        }
        if (gate.runStatus !== 'awaiting_approval') return { refused: `gate ${gate.id}: its run ${gate.runId} is ${gate.runStatus}` };
        if (decision.from !== 'timeout' && gate.deadline.getTime() <= Date.parse(decision.at))
          return { refused: `gate ${gate.id} timed out at ${gate.deadline.toISOString()}` };
        const refused = refusal(gate, decision);
        if (refused) return { refused };
        gate.decisions.push(decision);
        if (gate.settings.kind === 'intervention') {
          gate.outcome = decision.verdict as InterventionDecision;
        } else {
          const passed = approvalsOf(gate).passed;
          gate.outcome = decision.verdict === 'reject' ? 'rejected' : passed ? 'approved' : null;
        }
        this.prepared('UPDATE gates SET decisions = ?, outcome = ?, decided_at = ? WHERE id = ?').run(
          JSON.stringify(gate.decisions),
          gate.outcome,
          gate.outcome ? Date.now() : null,
          gate.id,
        );
        if (gate.outcome === 'rejected') {
          this.rejectRun(gate, decision);
          gate.runStatus = 'rejected';
          return { rejected: gate };
        }
        if (gate.outcome === null) return { waiting: gate };
        const claimed = this.claim(gate.runId, { owner, from: null });
        if (!claimed) throw new Error(`gate ${gate.id} is decided, but its run ${gate.runId} could not be claimed`);
        gate.runStatus = 'running';
        return { approvedGate: gate, claimed };
      },
    );
    if ('approvedGate' in outcome) {
      const { approvedGate: gate } = outcome;
      const claimed = this.claimedRun(gate.runId, outcome.claimed);
      return Promise.resolve(gate.settings.kind === 'intervention' ? { intervened: gate, claimed } : { approved: gate, claimed });
    }
    return Promise.resolve(outcome);
  }

  dueNotifications(now: Date): Promise<string[]> {
    const ids = this.prepared(
      `SELECT notifications.gate_id FROM notifications JOIN gates ON gates.id = notifications.gate_id
         WHERE notifications.delivered_at IS NULL AND notifications.next_at IS NOT NULL AND notifications.next_at <= ?
         AND gates.outcome IS NULL ORDER BY notifications.next_at`,
    )
      .pluck()
      .all(now.getTime()) as string[];
    return Promise.resolve(ids);
  }

  claimNotification(gateId: string, claim: { now: Date; retryAt: Date }): Promise<StoredNotification | undefined> {
    return Promise.resolve(
      this.write(() => {
        const { changes } = this.prepared(
          `UPDATE notifications SET attempts = attempts + 1, next_at = ?
             WHERE gate_id = ? AND delivered_at IS NULL AND next_at IS NOT NULL AND next_at <= ?`,
        ).run(claim.retryAt.getTime(), gateId, claim.now.getTime());
        if (!changes) return undefined;
        const row = this.prepared('SELECT * FROM notifications WHERE gate_id = ?').get(gateId) as NotificationRow;
        return toNotification(row) ?? undefined;
      }),
    );
  }

  finishNotification(gateId: string, result: NotificationResult): Promise<void> {
    this.write(() => {
      if ('delivered' in result)
        this.prepared('UPDATE notifications SET delivered_at = ?, next_at = NULL, last_error = NULL WHERE gate_id = ?').run(
          result.delivered.getTime(),
          gateId,
        );
      else
        this.prepared('UPDATE notifications SET last_error = ?, next_at = ? WHERE gate_id = ? AND delivered_at IS NULL').run(
          result.error,
          result.retryAt?.getTime() ?? null,
          gateId,
        );
    });
    return Promise.resolve();
  }

  addApprovalTokens(gateId: string, tokens: readonly { hash: string; name: string }[]): Promise<void> {
    // Durable: a link sent out must work after a crash of the trig that sent it.
    this.writeDurably(() => {
      const insert = this.prepared('INSERT INTO approval_tokens (gate_id, hash, name, created_at) VALUES (?, ?, ?, ?)');
      for (const token of tokens) insert.run(gateId, token.hash, token.name, Date.now());
    });
    return Promise.resolve();
  }

  approvalTokens(gateId: string): Promise<ApprovalToken[]> {
    const rows = this.prepared('SELECT hash, name, used_at FROM approval_tokens WHERE gate_id = ?').all(gateId) as {
      hash: string;
      name: string;
      used_at: number | null;
    }[];
    return Promise.resolve(rows.map((r) => ({ hash: r.hash, name: r.name, usedAt: r.used_at === null ? null : new Date(r.used_at) })));
  }

  useApprovalToken(gateId: string, hash: string, at: Date): Promise<boolean> {
    const { changes } = this.write(() =>
      this.prepared('UPDATE approval_tokens SET used_at = ? WHERE gate_id = ? AND hash = ? AND used_at IS NULL').run(
        at.getTime(),
        gateId,
        hash,
      ),
    );
    return Promise.resolve(changes === 1);
  }

  /** A rejected gate ends its run: nothing after the gate runs. */
  private rejectRun(gate: StoredGate, decision: GateDecision): void {
    const stored = this.prepared('SELECT steps FROM runs WHERE id = ?').pluck().get(gate.runId) as string | null;
    const steps = stored ? (JSON.parse(stored) as StepRecord[]) : [];
    const why =
      decision.from === 'timeout'
        ? `timed out after ${gate.settings.timeout} without a decision (timeout-action: reject)`
        : `rejected by ${oneLine(decision.by)}${decision.comment ? `: ${oneLine(decision.comment)}` : ''}`;
    const last = steps[steps.length - 1];
    if (last?.status === 'awaiting_approval') steps[steps.length - 1] = { ...last, status: 'rejected', reason: why };
    const where = last?.name ? `step ${last.name}` : gate.step === '(definition)' ? 'approval' : `stage ${gate.step}`;
    this.end(gate.runId, { status: 'rejected', exitCode: null, reason: `${where}: ${why}`, steps });
  }

  reapLost(isAlive: (owner: Owner) => boolean): Promise<{ runId: string; groups: ProcessGroup[] }[]> {
    const host = os.hostname();
    // Not a suspended run: it waits to be resumed or decided, whether its owner is alive or not.
    const owned: readonly StoredRunStatus[] = ACTIVE_STATUSES.filter((status) => !SUSPENDED_STATUSES.includes(status));
    const candidates = this.prepared(
      `SELECT id, owner_pid, owner_start, pgids FROM runs WHERE status IN (${owned.map(() => '?').join(',')}) AND owner_host = ?`,
    ).all(...owned, host) as { id: string; owner_pid: number; owner_start: string; pgids: string }[];
    const lost = candidates.filter((c) => !isAlive({ host, pid: c.owner_pid, startedAt: c.owner_start }));
    if (!lost.length) return Promise.resolve([]);
    return Promise.resolve(
      this.write(() => {
        const reaped: { runId: string; groups: ProcessGroup[] }[] = [];
        for (const run of lost) {
          // Checked again inside the transaction: another process may have reaped or finished it.
          const row = this.prepared('SELECT status, owner_pid FROM runs WHERE id = ?').get(run.id) as
            { status: StoredRunStatus; owner_pid: number | null } | undefined;
          if (!row || !owned.includes(row.status) || row.owner_pid !== run.owner_pid) continue;
          const steps = [] as RunEnd['steps'];
          this.end(run.id, { status: 'lost', exitCode: null, reason: `the trig process that ran it (pid ${run.owner_pid}) died`, steps });
          reaped.push({ runId: run.id, groups: JSON.parse(run.pgids) as ProcessGroup[] });
        }
        return reaped;
      }),
    );
  }

  listRuns(filter: RunFilter): Promise<StoredRun[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      where.push('runs.status = ?');
      params.push(filter.status);
    }
    if (filter.definition) {
      where.push('runs.definition = ?');
      params.push(filter.definition);
    }
    if (filter.event) {
      where.push('events.name = ?');
      params.push(filter.event);
    }
    if (filter.since) {
      where.push('runs.queued_at >= ?');
      params.push(filter.since.getTime());
    }
    const sql = `SELECT ${RUN_COLUMNS} FROM runs JOIN events ON events.id = runs.event_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY runs.queued_at DESC, runs.rowid DESC`;
    const limit = filter.limit ?? Infinity;
    const runs: StoredRun[] = [];
    for (const row of this.db.prepare(sql).iterate(...params) as IterableIterator<RunRow>) {
      if (filter.places && !overlaps(JSON.parse(row.places) as string[], filter.places)) continue;
      runs.push(toRun(row));
      if (runs.length >= limit) break;
    }
    return Promise.resolve(runs);
  }

  private findBy<R>(table: 'runs' | 'events' | 'gates', idPrefix: string, load: (id: string) => R): Found<R> {
    if (!/^[0-9a-f]{1,64}$/i.test(idPrefix)) return { missing: `"${idPrefix}" is not an id (hex digits)` };
    const ids = this.prepared(`SELECT id FROM ${table} WHERE id LIKE ? ESCAPE '\\' LIMIT 6`)
      .pluck()
      .all(likePrefix(idPrefix.toLowerCase())) as string[];
    const what = table.slice(0, -1);
    if (!ids.length) return { missing: `no ${what} ${idPrefix}` };
    if (ids.length > 1)
      return {
        missing: `${idPrefix} is the start of several ${what}s (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}); give more of it`,
      };
    return { found: load(ids[0]!) };
  }

  findRun(idPrefix: string): Promise<Found<StoredRun>> {
    return Promise.resolve(
      this.findBy('runs', idPrefix, (id) =>
        toRun(
          this.prepared(`SELECT ${RUN_COLUMNS} FROM runs JOIN events ON events.id = runs.event_id WHERE runs.id = ?`).get(id) as RunRow,
        ),
      ),
    );
  }

  readLog(runId: string, options: { step?: string; afterSeq?: number } = {}): Promise<StoredLogLine[]> {
    const rows = this.prepared(
      `SELECT seq, step, at, text FROM logs WHERE run_id = ? AND seq > ? ${options.step !== undefined ? "AND (step = ? OR step LIKE ? ESCAPE '\\')" : ''} ORDER BY seq`,
    ).all(runId, options.afterSeq ?? 0, ...(options.step !== undefined ? [options.step, likePrefix(`${options.step}/`)] : [])) as {
      seq: number;
      step: string | null;
      at: number;
      text: string;
    }[];
    return Promise.resolve(rows.map((r) => ({ seq: r.seq, step: r.step, at: new Date(r.at), text: r.text })));
  }

  /** `runs` when the caller knows them already (none, for an event not dispatched). */
  private toEvent(row: EventRow, runs?: string[]): StoredEvent {
    return {
      id: row.id,
      name: row.name,
      source: row.source,
      at: new Date(row.received_at),
      deliveryKey: row.delivery_key,
      places: JSON.parse(row.places) as string[],
      payload: JSON.parse(row.payload) as unknown,
      headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : null,
      replayOf: row.replay_of,
      details: JSON.parse(row.details) as Record<string, unknown>,
      decisions: JSON.parse(row.decisions) as DecisionRecord[],
      dispatched: row.dispatched === 1,
      runs: runs ?? (this.prepared('SELECT id FROM runs WHERE event_id = ? ORDER BY rowid').pluck().all(row.id) as string[]),
    };
  }

  listEvents(options: { limit?: number; places?: readonly string[] }): Promise<StoredEvent[]> {
    const limit = options.limit ?? Infinity;
    const events: StoredEvent[] = [];
    for (const row of this.prepared('SELECT * FROM events ORDER BY received_at DESC, rowid DESC').iterate() as IterableIterator<EventRow>) {
      if (options.places && !overlaps(JSON.parse(row.places) as string[], options.places)) continue;
      events.push(this.toEvent(row));
      if (events.length >= limit) break;
    }
    return Promise.resolve(events);
  }

  findEvent(idPrefix: string): Promise<Found<StoredEvent>> {
    return Promise.resolve(
      this.findBy('events', idPrefix, (id) => this.toEvent(this.prepared('SELECT * FROM events WHERE id = ?').get(id) as EventRow)),
    );
  }

  /** Deletes events beyond the newest `keep` whose runs are all over; their runs and logs go with them (ON DELETE CASCADE). */
  /** Neither an event still to be decided (guarantee 7: an acknowledged delivery) nor one with a run not over goes. */
  private pruneBeyond(keep: number, before?: Date): { events: number; runs: number } {
    // The newest `keep` events stay; the first one past them is found through the time
    // index (events_by_time holds received_at and rowid, in the order kept), so that the
    // automatic bound reads about `keep` index entries, not the whole table.
    const past = this.prepared(
      'SELECT received_at AS at, rowid AS seq FROM events ORDER BY received_at DESC, rowid DESC LIMIT 1 OFFSET ?',
    ).get(keep) as { at: number; seq: number } | undefined;
    const doomed = new Set<string>();
    if (past) {
      for (const id of this.prepared(PRUNABLE_UP_TO)
        .pluck()
        .all(past.at, past.seq, ...ACTIVE_STATUSES) as string[])
        doomed.add(id);
    }
    if (before) {
      for (const id of this.prepared(PRUNABLE_BEFORE)
        .pluck()
        .all(before.getTime(), ...ACTIVE_STATUSES) as string[])
        doomed.add(id);
    }
    if (!doomed.size) return { events: 0, runs: 0 };
    let runs = 0;
    const deleteEvent = this.prepared('DELETE FROM events WHERE id = ?');
    const countRuns = this.prepared('SELECT count(*) FROM runs WHERE event_id = ?').pluck();
    for (const id of doomed) {
      runs += countRuns.get(id) as number;
      deleteEvent.run(id);
    }
    return { events: doomed.size, runs };
  }

  prune(options: { before?: Date; keep?: number }): Promise<{ events: number; runs: number }> {
    return Promise.resolve(this.write(() => this.pruneBeyond(options.keep ?? this.keepEvents, options.before)));
  }

  private checkpointTimer: NodeJS.Timeout | undefined;

  /** Folds the write-ahead log back into the database file every `ms`, outside any write (see StoreSharing). */
  checkpointEvery(ms: number): void {
    this.checkpointTimer = setInterval(() => {
      try {
        // PASSIVE: as much as no reader still needs, without waiting for anyone.
        if (this.db.open) this.db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // Busy (another process checkpointing) or a full disk: the next turn tries again, and
        // the log only grows meanwhile; every write reports a failing disk itself.
      }
    }, ms);
    this.checkpointTimer.unref();
  }

  close(): void {
    clearInterval(this.checkpointTimer);
    if (this.db.open) this.db.close();
  }
}
