-- Step 3 in PostgreSQL's dialect (migrations/0003_list_indexes.sql): the
-- indexes of the newest-first listing. Never edit this file once released.

CREATE INDEX migrations_by_created ON migrations (created_at DESC, id, role);
CREATE INDEX migrations_by_state ON migrations (state, created_at DESC, id, role);
CREATE INDEX migrations_by_role ON migrations (role, created_at DESC, id);
