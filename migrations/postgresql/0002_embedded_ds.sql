-- Step 2 in PostgreSQL's dialect (migrations/0002_embedded_ds.sql): the
-- embedded reference Delivery Service's tables. Never edit this file once
-- released.

CREATE TABLE ds_groups (
  group_id      BYTEA   PRIMARY KEY,
  cipher_suite  BIGINT  NOT NULL,
  epoch         BIGINT  NOT NULL,
  tree_epoch    BIGINT  NOT NULL,
  ratchet_tree  BYTEA   NOT NULL,
  group_info    BYTEA   NOT NULL,
  frozen_by     TEXT,
  imported_by   TEXT,
  next_seq      BIGINT  NOT NULL,
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL
);

CREATE TABLE ds_messages (
  group_id      BYTEA   NOT NULL REFERENCES ds_groups (group_id),
  seq           BIGINT  NOT NULL,
  epoch         BIGINT  NOT NULL,
  content_type  BIGINT  NOT NULL,
  message       BYTEA   NOT NULL,
  migration_id  TEXT,
  received_at   BIGINT  NOT NULL,
  PRIMARY KEY (group_id, seq)
);

CREATE UNIQUE INDEX ds_messages_one_fan_out
  ON ds_messages (group_id, migration_id)
  WHERE migration_id IS NOT NULL;

CREATE TABLE ds_tombstones (
  group_id      BYTEA   PRIMARY KEY,
  moved_to      TEXT    NOT NULL,
  moved_at      BIGINT  NOT NULL,
  confirmation  BYTEA   NOT NULL,
  migration_id  TEXT    NOT NULL
);
