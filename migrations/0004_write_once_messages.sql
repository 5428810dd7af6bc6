-- Step 4: large blobs out of the rows that change (docs/performance.md,
-- "Hot rows"). Never edit this file once released.
--
-- A migrations row used to hold every protocol message of the migration,
-- the content (the whole group state, tens of MiB for a large group)
-- among them: each state transition, lease and failure record rewrote the
-- whole record, and every read of the row read the content too. The
-- messages now live in migration_messages, written once by the creation or
-- transition that produced them; the row keeps state, lease, attempts,
-- times and content_hash. Likewise the embedded DS's tree and GroupInfo
-- move out of ds_groups, whose epoch, freeze and next_seq change often.

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

-- Write-once: nothing in the coordinator deletes a migration or its
-- messages, so neither an update nor a delete is legitimate.
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

-- Every message a row holds, byte for byte; NULL meant "not yet".
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'request', request FROM migrations
  WHERE request IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'response', response FROM migrations
  WHERE response IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'init_request', init_request FROM migrations
  WHERE init_request IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'commit', commit_message FROM migrations
  WHERE commit_message IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'content', content FROM migrations
  WHERE content IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'target_complete', target_complete FROM migrations
  WHERE target_complete IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'confirmation', confirmation FROM migrations
  WHERE confirmation IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'abort_message', abort_message FROM migrations
  WHERE abort_message IS NOT NULL;
INSERT INTO migration_messages (id, role, kind, body)
  SELECT id, role, 'abort_ack', abort_ack FROM migrations
  WHERE abort_ack IS NOT NULL;

ALTER TABLE migrations DROP COLUMN request;
ALTER TABLE migrations DROP COLUMN response;
ALTER TABLE migrations DROP COLUMN init_request;
ALTER TABLE migrations DROP COLUMN commit_message;
ALTER TABLE migrations DROP COLUMN content;
ALTER TABLE migrations DROP COLUMN target_complete;
ALTER TABLE migrations DROP COLUMN confirmation;
ALTER TABLE migrations DROP COLUMN abort_message;
ALTER TABLE migrations DROP COLUMN abort_ack;

-- The embedded DS: one row per group with its current tree, replaced only
-- by a commit (which moves the epoch anyway) and never by a freeze, an
-- unfreeze or a message. group_info comes before ratchet_tree so that
-- reading it does not walk the tree's overflow pages.
CREATE TABLE ds_group_trees (
  group_id      BLOB    PRIMARY KEY REFERENCES ds_groups (group_id),
  tree_epoch    INTEGER NOT NULL,        -- the epoch ratchet_tree belongs to
  group_info    BLOB    NOT NULL,        -- latest MLSMessage(GroupInfo) known
  ratchet_tree  BLOB    NOT NULL         -- RFC 9420 ratchet_tree
);

INSERT INTO ds_group_trees (group_id, tree_epoch, group_info, ratchet_tree)
  SELECT group_id, tree_epoch, group_info, ratchet_tree FROM ds_groups;

ALTER TABLE ds_groups DROP COLUMN tree_epoch;
ALTER TABLE ds_groups DROP COLUMN ratchet_tree;
ALTER TABLE ds_groups DROP COLUMN group_info;
