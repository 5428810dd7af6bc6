-- Step 4 in PostgreSQL's dialect (migrations/0004_write_once_messages.sql):
-- the protocol messages move out of the rows that change into the
-- write-once migration_messages, and the embedded DS's tree out of
-- ds_groups. Never edit this file once released.

CREATE TABLE migration_messages (
  id     TEXT    NOT NULL,
  role   TEXT    NOT NULL,
  kind   TEXT    NOT NULL CHECK (kind IN ('request', 'response',
                   'init_request', 'commit', 'content', 'target_complete',
                   'confirmation', 'abort_message', 'abort_ack')),
  body   BYTEA   NOT NULL,
  PRIMARY KEY (id, role, kind),
  FOREIGN KEY (id, role) REFERENCES migrations (id, role)
);

-- Write-once: nothing in the coordinator deletes a migration or its
-- messages, so neither an update nor a delete is legitimate.
CREATE FUNCTION migration_messages_write_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'migration_messages is write-once';
END;
$$;

CREATE TRIGGER migration_messages_no_update
  BEFORE UPDATE ON migration_messages
  FOR EACH ROW EXECUTE FUNCTION migration_messages_write_once();
CREATE TRIGGER migration_messages_no_delete
  BEFORE DELETE ON migration_messages
  FOR EACH ROW EXECUTE FUNCTION migration_messages_write_once();
CREATE TRIGGER migration_messages_no_truncate
  BEFORE TRUNCATE ON migration_messages
  FOR EACH STATEMENT EXECUTE FUNCTION migration_messages_write_once();

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
  group_id      BYTEA   PRIMARY KEY REFERENCES ds_groups (group_id),
  tree_epoch    BIGINT  NOT NULL,
  group_info    BYTEA   NOT NULL,
  ratchet_tree  BYTEA   NOT NULL
);

INSERT INTO ds_group_trees (group_id, tree_epoch, group_info, ratchet_tree)
  SELECT group_id, tree_epoch, group_info, ratchet_tree FROM ds_groups;

ALTER TABLE ds_groups DROP COLUMN tree_epoch;
ALTER TABLE ds_groups DROP COLUMN ratchet_tree;
ALTER TABLE ds_groups DROP COLUMN group_info;
