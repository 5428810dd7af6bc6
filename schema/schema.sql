-- The store's complete current schema, readable on its own.
--
-- Databases are never created from this file: the store builds and upgrades
-- every database by replaying migrations/NNNN_*.sql in order, so that the
-- upgrade path is the only path. store_schema_test checks that this file and
-- the result of all steps describe the same tables, columns, indexes and
-- triggers. Schema version: 5 (PRAGMA user_version).
--
-- PostgreSQL: migrations/postgresql/ holds every step in its dialect
-- (bytea for BLOB, bigint, PL/pgSQL trigger functions); store_schema_test
-- checks that both reach the same tables, columns, indexes and triggers.
-- Times are Unix milliseconds.

-- One migration as seen by one role. Small and often rewritten (every
-- transition, lease and failure record), so it holds no protocol message:
-- those are in migration_messages.
CREATE TABLE migrations (
  id                 TEXT    NOT NULL,  -- lowercase hex of the 32-byte nonce
  role               TEXT    NOT NULL CHECK (role IN ('source', 'target')),
  state              TEXT    NOT NULL,  -- legal values: store/transitions.cc
  group_id           BLOB    NOT NULL,
  epoch              INTEGER NOT NULL,  -- uint64 stored as its int64 bits
  ciphersuite        INTEGER NOT NULL,
  source_domain      TEXT    NOT NULL,
  target_domain      TEXT    NOT NULL,
  content_hash       BLOB,              -- Hash(MigrationContent)
  attempt_count      INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER,           -- Unix ms; NULL: nothing to retry
  lease_owner        TEXT,              -- "<lease_holder>#<n>"
  lease_expires_at   INTEGER,           -- Unix ms
  last_error         TEXT,
  stalled_since      INTEGER,           -- Unix ms; NULL: not stalled
  created_at         INTEGER NOT NULL,  -- Unix ms
  updated_at         INTEGER NOT NULL,  -- Unix ms
  -- lease_holders.holder_id of lease_owner; NULL when free or when taken
  -- before schema step 5 (such a lease lapses by expiry only).
  lease_holder       TEXT,
  PRIMARY KEY (id, role)
);

CREATE INDEX migrations_by_group ON migrations (group_id);
CREATE INDEX migrations_by_role_state ON migrations (role, state, created_at);
-- Newest-first listing (Store::List) without a full sort.
CREATE INDEX migrations_by_created ON migrations (created_at DESC, id, role);
CREATE INDEX migrations_by_state ON migrations (state, created_at DESC, id, role);
CREATE INDEX migrations_by_role ON migrations (role, created_at DESC, id);
CREATE INDEX migrations_due ON migrations (next_attempt_at)
  WHERE next_attempt_at IS NOT NULL;
-- The leases a dead holder still has (Store::ReclaimDeadLeases).
CREATE INDEX migrations_by_lease_holder ON migrations (lease_holder)
  WHERE lease_holder IS NOT NULL;
-- A group can be leaving this DS through at most one migration at a time.
CREATE UNIQUE INDEX migrations_one_active_source_per_group
  ON migrations (group_id)
  WHERE role = 'source'
    AND state IN ('initiated', 'content-sent', 'target-complete',
                  'abort-requested');

-- One row per daemon start (docs/protocol.md §4 "Lease ownership"): the
-- holder a lease owner names. Dead when ended_at is set (a later
-- incarnation of the same instance started, or it stopped cleanly) or when
-- alive_until, pushed on by every heartbeat, has passed; a dead holder's
-- leases are taken over at once.
CREATE TABLE lease_holders (
  holder_id     TEXT    PRIMARY KEY,     -- "<instance_id>/<incarnation>"
  instance_id   TEXT    NOT NULL,
  incarnation   INTEGER NOT NULL,        -- 1, 2, ... per instance_id
  host          TEXT    NOT NULL,        -- for operators: where it ran
  pid           INTEGER NOT NULL,
  started_at    INTEGER NOT NULL,        -- Unix ms
  heartbeat_at  INTEGER NOT NULL,        -- Unix ms, the last refresh
  alive_until   INTEGER NOT NULL,        -- Unix ms: dead after this
  ended_at      INTEGER,                 -- Unix ms; NULL: not ended
  UNIQUE (instance_id, incarnation)
);

-- Every protocol message of a migration, written once in the transaction of
-- the creation or transition that produced it and never rewritten, so that
-- a large content is written once and read only by who asks for it.
CREATE TABLE migration_messages (
  id     TEXT    NOT NULL,
  role   TEXT    NOT NULL,
  kind   TEXT    NOT NULL CHECK (kind IN ('request', 'response',
                   'init_request', 'commit', 'content', 'target_complete',
                   'confirmation', 'abort_message', 'abort_ack')),
  body   BLOB    NOT NULL,               -- the message's wire serialization
  PRIMARY KEY (id, role, kind),
  FOREIGN KEY (id, role) REFERENCES migrations (id, role)
);

CREATE TRIGGER migration_messages_no_update
  BEFORE UPDATE ON migration_messages
BEGIN
  SELECT RAISE(ABORT, 'migration_messages is write-once');
END;

CREATE TRIGGER migration_messages_no_delete
  BEFORE DELETE ON migration_messages
BEGIN
  SELECT RAISE(ABORT, 'migration_messages is write-once');
END;

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

-- ---- The embedded reference DS (step 2). The coordinator reaches it only
-- through the DeliveryService interface.

-- One row per group hosted here: its small, often changed columns.
CREATE TABLE ds_groups (
  group_id      BLOB    PRIMARY KEY,
  cipher_suite  INTEGER NOT NULL,
  epoch         INTEGER NOT NULL,        -- commits are accepted at this epoch only
  frozen_by     TEXT,                    -- migration holding the group frozen
  imported_by   TEXT,                    -- migration that brought it here
  next_seq      INTEGER NOT NULL,        -- sequence number of the next message
  created_at    INTEGER NOT NULL,        -- Unix ms
  updated_at    INTEGER NOT NULL         -- Unix ms
);

-- Each group's current tree, apart from ds_groups so that a freeze, an
-- unfreeze or a new message never rewrites it; replaced by a commit only.
-- group_info comes first: reading it does not walk the tree's pages.
CREATE TABLE ds_group_trees (
  group_id      BLOB    PRIMARY KEY REFERENCES ds_groups (group_id),
  tree_epoch    INTEGER NOT NULL,        -- the epoch ratchet_tree belongs to
  group_info    BLOB    NOT NULL,        -- latest MLSMessage(GroupInfo) known
  ratchet_tree  BLOB    NOT NULL         -- RFC 9420 ratchet_tree
);

-- Every message of a group, in the order members must process them.
CREATE TABLE ds_messages (
  group_id      BLOB    NOT NULL REFERENCES ds_groups (group_id),
  seq           INTEGER NOT NULL,
  epoch         INTEGER NOT NULL,
  content_type  INTEGER NOT NULL,        -- 1 application, 2 proposal, 3 commit
  message       BLOB    NOT NULL,        -- one MLSMessage
  migration_id  TEXT,                    -- set on a migration commit
  received_at   INTEGER NOT NULL,        -- Unix ms
  PRIMARY KEY (group_id, seq)
);

-- A migration commit is fanned out at most once.
CREATE UNIQUE INDEX ds_messages_one_fan_out
  ON ds_messages (group_id, migration_id)
  WHERE migration_id IS NOT NULL;

-- Groups that left this DS: members are told where they went.
CREATE TABLE ds_tombstones (
  group_id      BLOB    PRIMARY KEY,
  moved_to      TEXT    NOT NULL,
  moved_at      INTEGER NOT NULL,        -- Unix ms
  confirmation  BLOB    NOT NULL,        -- the signed MigrationConfirmation
  migration_id  TEXT    NOT NULL
);
