-- Step 1: the migration coordinator's own tables.
--
-- Applied by the store inside BEGIN IMMEDIATE together with
-- PRAGMA user_version = 1. Never edit this file once released: change the
-- schema with a new numbered step and update schema/schema.sql to match.

CREATE TABLE migrations (
  id                 TEXT    NOT NULL,  -- lowercase hex of the 32-byte nonce
  role               TEXT    NOT NULL CHECK (role IN ('source', 'target')),
  state              TEXT    NOT NULL,  -- legal values: store/transitions.cc
  group_id           BLOB    NOT NULL,
  epoch              INTEGER NOT NULL,  -- uint64 stored as its int64 bits
  ciphersuite        INTEGER NOT NULL,
  source_domain      TEXT    NOT NULL,
  target_domain      TEXT    NOT NULL,
  request            BLOB,              -- MigrationRequest
  response           BLOB,              -- MigrationResponse
  init_request       BLOB,              -- MigrationInitRequest (source)
  commit_message     BLOB,              -- the MLSMessage commit (source)
  content            BLOB,              -- MigrationContent
  content_hash       BLOB,
  target_complete    BLOB,              -- TargetMigrationComplete
  confirmation       BLOB,              -- MigrationConfirmation
  abort_message      BLOB,              -- MigrationAbort
  abort_ack          BLOB,              -- MigrationAbortAck
  attempt_count      INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER,           -- Unix ms; NULL: nothing to retry
  lease_owner        TEXT,
  lease_expires_at   INTEGER,           -- Unix ms
  last_error         TEXT,
  stalled_since      INTEGER,           -- Unix ms; NULL: not stalled
  created_at         INTEGER NOT NULL,  -- Unix ms
  updated_at         INTEGER NOT NULL,  -- Unix ms
  PRIMARY KEY (id, role)
);

CREATE INDEX migrations_by_group ON migrations (group_id);
CREATE INDEX migrations_by_role_state ON migrations (role, state, created_at);
CREATE INDEX migrations_due ON migrations (next_attempt_at)
  WHERE next_attempt_at IS NOT NULL;
-- A group can be leaving this DS through at most one migration at a time.
CREATE UNIQUE INDEX migrations_one_active_source_per_group
  ON migrations (group_id)
  WHERE role = 'source'
    AND state IN ('initiated', 'content-sent', 'target-complete',
                  'abort-requested');

-- Append-only history: one row per state a migration entered.
CREATE TABLE migration_events (
  seq          INTEGER PRIMARY KEY,
  migration_id TEXT    NOT NULL,
  role         TEXT    NOT NULL,
  from_state   TEXT,                     -- NULL for the row's creation
  to_state     TEXT    NOT NULL,
  at           INTEGER NOT NULL,         -- Unix ms
  detail       TEXT    NOT NULL DEFAULT '',
  FOREIGN KEY (migration_id, role) REFERENCES migrations (id, role)
);

CREATE INDEX migration_events_by_migration
  ON migration_events (migration_id, role, seq);

CREATE TRIGGER migration_events_no_update BEFORE UPDATE ON migration_events
BEGIN
  SELECT RAISE(ABORT, 'migration_events is append-only');
END;

CREATE TRIGGER migration_events_no_delete BEFORE DELETE ON migration_events
BEGIN
  SELECT RAISE(ABORT, 'migration_events is append-only');
END;

-- Nonces this DS issued as a target. Kept after expiry so that a nonce is
-- never accepted twice.
CREATE TABLE issued_nonces (
  nonce        TEXT    PRIMARY KEY,      -- lowercase hex
  ciphersuite  INTEGER NOT NULL,
  issued_at    INTEGER NOT NULL,         -- Unix ms
  expires_at   INTEGER NOT NULL          -- Unix ms
);

CREATE INDEX issued_nonces_by_expiry ON issued_nonces (expires_at);

-- Groups that moved away: answered "moved" with the target domain.
CREATE TABLE tombstones (
  group_id      BLOB    PRIMARY KEY,
  target_domain TEXT    NOT NULL,
  migration_id  TEXT    NOT NULL,
  moved_at      INTEGER NOT NULL,        -- Unix ms
  confirmation  BLOB    NOT NULL         -- the signed MigrationConfirmation
);
