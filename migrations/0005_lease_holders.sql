-- Step 5: leases name the process that holds them (docs/protocol.md §4
-- "Lease ownership"). Never edit this file once released.
--
-- A lease owner used to be "host:pid:random#n", fresh in every process, so
-- a restarted daemon could not tell its own dead incarnation's leases from
-- a live peer's and waited out recovery.lease_ms. Now every daemon start
-- registers one lease holder: its instance id (stable per data directory,
-- or configured) and an incarnation number that grows by one at every
-- start. The holder refreshes its heartbeat every recovery.heartbeat_ms;
-- a holder whose incarnation was superseded (ended_at set) or whose
-- heartbeat ran out (alive_until passed) is dead, and the leases it still
-- holds are taken over at once rather than when they expire.

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

-- The holder part of lease_owner ("<holder_id>#<n>"), so that the leases of
-- a dead holder are found without parsing owners. NULL for a free lease,
-- and for leases taken before this step (those still lapse by expiry only).
ALTER TABLE migrations ADD COLUMN lease_holder TEXT;

CREATE INDEX migrations_by_lease_holder ON migrations (lease_holder)
  WHERE lease_holder IS NOT NULL;
