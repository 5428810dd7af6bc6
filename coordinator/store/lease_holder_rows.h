// The store's lease-holder rule shared by its writes (sqlite_store_writes.cc
// takes leases, sqlite_store_lease_holders.cc keeps holders alive): whether a
// holder has ended (docs/protocol.md §4 "Lease ownership").
//
// A free function over a caller's connection; as thread-safe as that
// connection. It throws what SQLiteCpp throws: callers run it under Guarded
// (sqlite_status.h).
#ifndef MIMI_STORE_LEASE_HOLDER_ROWS_H_
#define MIMI_STORE_LEASE_HOLDER_ROWS_H_

#include <string_view>

namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::store {

// True when `holder` ("<instance_id>/<incarnation>") has ended: it stopped
// (ended_at), or a later incarnation of its instance started. Asked of the
// later incarnation too, since the store forgets an ended holder's row once
// it holds nothing. False for a holder id not of that form (tests, tools).
bool HolderHasEnded(SQLite::Database& db, std::string_view holder);

}  // namespace mimi::store

#endif  // MIMI_STORE_LEASE_HOLDER_ROWS_H_
