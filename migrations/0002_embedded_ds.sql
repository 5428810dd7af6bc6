-- Step 2: the embedded reference Delivery Service's tables (ds_*).
--
-- The coordinator never reads these: it reaches the DS only through the
-- DeliveryService interface, which an external DS implements over HTTP hooks
-- instead. Never edit this file once released.

-- One row per group hosted here.
CREATE TABLE ds_groups (
  group_id      BLOB    PRIMARY KEY,
  cipher_suite  INTEGER NOT NULL,
  epoch         INTEGER NOT NULL,        -- commits are accepted at this epoch only
  tree_epoch    INTEGER NOT NULL,        -- the epoch ratchet_tree belongs to
  ratchet_tree  BLOB    NOT NULL,        -- RFC 9420 ratchet_tree
  group_info    BLOB    NOT NULL,        -- latest MLSMessage(GroupInfo) known
  frozen_by     TEXT,                    -- migration holding the group frozen
  imported_by   TEXT,                    -- migration that brought it here
  next_seq      INTEGER NOT NULL,        -- sequence number of the next message
  created_at    INTEGER NOT NULL,        -- Unix ms
  updated_at    INTEGER NOT NULL         -- Unix ms
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
