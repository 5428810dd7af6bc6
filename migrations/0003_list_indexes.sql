-- Step 3: indexes for the operator's newest-first listing (Store::List,
-- `mimi-portctl list`), which otherwise scanned and sorted every row: with
-- 100,000 rows that took over half a second per call. Never edit this file
-- once released.

-- In the listing's own order (created_at DESC, id, role), so that no sort is
-- needed: no filter, or a filter checked row by row while the index walks
-- the newest rows first.
CREATE INDEX migrations_by_created ON migrations (created_at DESC, id, role);
-- --state alone, --role alone (both together use migrations_by_role_state).
CREATE INDEX migrations_by_state ON migrations (state, created_at DESC, id, role);
CREATE INDEX migrations_by_role ON migrations (role, created_at DESC, id);
