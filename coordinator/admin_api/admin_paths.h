// What mimi-portd and mimi-portctl must agree on about the admin API, spelled
// once: the URL paths of the admin listener (docs/operations.md, "Admin
// API") and the names of the files in the data directory that the CLI reads
// when it talks to (or falls back from) a running daemon.
//
// Constants only; thread-safe.
#ifndef MIMI_ADMIN_API_ADMIN_PATHS_H_
#define MIMI_ADMIN_API_ADMIN_PATHS_H_

namespace mimi::admin_api {

// GET: the migration list (query: state, role, group, limit).
inline constexpr char kMigrationsPath[] = "/admin/v1/migrations";
// GET kMigrationsPath/{id}; POST kMigrationsPath/{id}/{retry|abort}.
inline constexpr char kRetryAction[] = "retry";
inline constexpr char kAbortAction[] = "abort";
// GET: counts per role and state, stalled rows, oldest unfinished age.
inline constexpr char kStatsPath[] = "/admin/v1/stats";

// <data_dir>/mimi.db: the migration store (the CLI opens it read-only).
inline constexpr char kDatabaseFile[] = "mimi.db";
// <data_dir>/portd.json: {"public_port", "admin_port", "pid"}, written by a
// running mimi-portd once it listens.
inline constexpr char kDaemonInfoFile[] = "portd.json";

}  // namespace mimi::admin_api

#endif  // MIMI_ADMIN_API_ADMIN_PATHS_H_
