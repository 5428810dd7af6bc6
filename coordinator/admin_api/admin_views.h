// The JSON documents of the admin API (docs/operations.md, "Admin API"):
// a migration list, one migration with its events, and the store's stats,
// computed from a Store. The admin routes serve them, and mimi-portctl builds
// the very same documents from the database read-only when the daemon is
// down, so its output does not depend on which path answered.
//
// Byte strings are lowercase hex (null: "not yet"), times are Unix
// milliseconds (null: never), and every document carries "now" so that a
// reader computes ages against the clock that produced it. Stateless
// functions; thread-safe as far as the Store is.
#ifndef MIMI_ADMIN_API_ADMIN_VIEWS_H_
#define MIMI_ADMIN_API_ADMIN_VIEWS_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/store.h"

namespace mimi::admin_api {

inline constexpr int kDefaultListLimit = 100;
inline constexpr int kMaxListLimit = 1000;

// A MigrationContent upload in flight, as the daemon's protocol engine
// reports it (protocol/transfer_progress.h); a plain copy so that this module
// and mimi-portctl need not depend on the protocol.
struct TransferView {
  uint64_t sent_bytes = 0;
  uint64_t total_bytes = 0;
  UnixMillis started_at = 0;
  UnixMillis updated_at = 0;
};
// The upload of migration `id` in flight, if any.
using TransferLookup =
    std::function<std::optional<TransferView>(std::string_view id)>;

// The list filters as text (query parameters or CLI options; empty or unset
// = no filter): state and role by their stored names, group as hex, limit in
// 1..kMaxListLimit. kMalformed names the bad one.
Result<store::ListFilter> ParseListFilter(
    const std::optional<std::string>& state,
    const std::optional<std::string>& role,
    const std::optional<std::string>& group,
    const std::optional<std::string>& limit);

// The fields of a row without its protocol messages (the list view).
nlohmann::json MigrationSummaryJson(const store::MigrationRecord& record);
// Every field, messages as hex, and the row's events.
nlohmann::json MigrationDetailJson(const store::MigrationRecord& record,
                                   const std::vector<store::MigrationEvent>& events);

// One lease holder (store::LeaseHolder) with "alive" at `now`.
nlohmann::json LeaseHolderJson(const store::LeaseHolder& holder, UnixMillis now);

// {"now", "migrations": [summary...]}, newest first. Each summary also
// has the row's lease: "lease_owner", "lease_expires_at", "lease_holder",
// "lease_holder_alive" (null: no lease, or a holder that is not
// registered)
// and "lease_state" (null: free; "held", "expired", "dead-holder").
Result<nlohmann::json> ListView(store::Store& store,
                                const store::ListFilter& filter,
                                UnixMillis now);
// {"id", "now", "migrations": [detail...]}: both roles' rows of the id,
// with the lease fields of ListView;
// kNotFound when it has none. Each detail also has "transfer": the source's
// MigrationContent upload in flight ({"sent_bytes", "total_bytes",
// "started_at", "updated_at"}), or null (none, or no `transfers` given, as
// when the CLI reads the database directly).
Result<nlohmann::json> ShowView(store::Store& store, std::string_view id,
                                UnixMillis now,
                                const TransferLookup& transfers = nullptr);
// {"now", "counts": [{"role","state","count"}], "total", "stalled",
//  "oldest_unfinished_age_ms", "lease_holders": [LeaseHolderJson...]}.
Result<nlohmann::json> StatsView(store::Store& store, UnixMillis now);

}  // namespace mimi::admin_api

#endif  // MIMI_ADMIN_API_ADMIN_VIEWS_H_
