// The store's schema, as forward migrations: MIGRATIONS[n] takes a database from version n
// to n + 1 (PRAGMA user_version). Never edit a released migration; add the next one.

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    delivery_key TEXT,
    places TEXT NOT NULL,
    payload TEXT NOT NULL,
    headers TEXT,
    replay_of TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    decisions TEXT NOT NULL DEFAULT '[]',
    dispatched INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX events_by_delivery ON events (source, delivery_key) WHERE delivery_key IS NOT NULL;
  CREATE INDEX events_by_time ON events (received_at);
  CREATE INDEX events_undispatched ON events (source) WHERE dispatched = 0;

  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    definition TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    group_name TEXT,
    cancel_in_progress INTEGER NOT NULL DEFAULT 0,
    cancel_requested TEXT,
    queued_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    exit_code INTEGER,
    steps TEXT,
    owner_host TEXT,
    owner_pid INTEGER,
    owner_start TEXT,
    pgids TEXT NOT NULL DEFAULT '[]',
    log_seq INTEGER NOT NULL DEFAULT 0,
    log_bytes INTEGER NOT NULL DEFAULT 0,
    log_dropped INTEGER NOT NULL DEFAULT 0,
    resume TEXT,
    resume_at INTEGER,
    snapshot TEXT
  );
  CREATE INDEX runs_by_event ON runs (event_id);
  CREATE INDEX runs_by_time ON runs (queued_at);
  CREATE INDEX runs_by_group ON runs (group_name, status) WHERE group_name IS NOT NULL;
  CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'waiting', 'running', 'retrying');
  CREATE INDEX runs_resumable ON runs (resume_at) WHERE status = 'retrying';

  CREATE TABLE logs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step TEXT,
    at INTEGER NOT NULL,
    text TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE gates (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    message TEXT,
    settings TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    decisions TEXT NOT NULL DEFAULT '[]',
    outcome TEXT,
    decided_at INTEGER
  );
  CREATE INDEX gates_by_run ON gates (run_id);
  CREATE INDEX gates_waiting ON gates (deadline) WHERE outcome IS NULL;
  DROP INDEX runs_active;
  CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'waiting', 'running', 'retrying', 'awaiting_approval');
  `,
  `
  CREATE TABLE notifications (
    gate_id TEXT PRIMARY KEY REFERENCES gates (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_at INTEGER,
    delivered_at INTEGER
  );
  CREATE INDEX notifications_due ON notifications (next_at) WHERE delivered_at IS NULL AND next_at IS NOT NULL;

  CREATE TABLE approval_tokens (
    gate_id TEXT NOT NULL REFERENCES gates (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (gate_id, hash)
  ) WITHOUT ROWID;
  `,
  // What the automatic bound may delete, in time order: without it, each bound read every
  // older event not dispatched yet (a backlog in trig serve) to learn that it must stay, and
  // its dispatched flag sits past the payload, on the row's overflow pages.
  `
  CREATE INDEX events_dispatched_by_time ON events (received_at) WHERE dispatched = 1;
  `,
];
