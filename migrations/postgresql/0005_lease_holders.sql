-- Step 5 in PostgreSQL's dialect (migrations/0005_lease_holders.sql): leases
-- name the process that holds them. Never edit this file once released.

CREATE TABLE lease_holders (
  holder_id     TEXT    PRIMARY KEY,
  instance_id   TEXT    NOT NULL,
  incarnation   BIGINT  NOT NULL,
  host          TEXT    NOT NULL,
  pid           BIGINT  NOT NULL,
  started_at    BIGINT  NOT NULL,
  heartbeat_at  BIGINT  NOT NULL,
  alive_until   BIGINT  NOT NULL,
  ended_at      BIGINT,
  UNIQUE (instance_id, incarnation)
);

ALTER TABLE migrations ADD COLUMN lease_holder TEXT;

CREATE INDEX migrations_by_lease_holder ON migrations (lease_holder)
  WHERE lease_holder IS NOT NULL;
