// ChaosClient: a migrating client that keeps going while the daemons under
// it crash, restart and lose packets, and the invariant checks that say a
// migration came through whole — for the crash-matrix, kill -9 and network
// fault tests.
//
// The client does what protocol_e2e_test does (create the group on the
// source's /ds/v1/groups with three synthetic members, ask the target for a
// MigrationResponse with a client token, sign MigrationInit as member 1,
// POST the init), but retries like a real client: a request that got no
// answer is asked again (a new nonce), an init that got no answer, a 5xx or
// a 202 is POSTed again byte-identical until it is confirmed or refused.
//
// The checks read both databases directly (SqliteStore / EmbeddedDs on
// <data_dir>/mimi.db, which the running daemons share through SQLite
// locking) and the source's status endpoint. Each returns the list of
// violated invariants, empty when all hold. Thread-safe per migration: one
// thread per ClientMigration.
#ifndef MIMI_TESTING_CHAOS_CLIENT_H_
#define MIMI_TESTING_CHAOS_CLIENT_H_

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "crypto/signing_key.h"
#include "mimi_portability/bytes.h"
#include "testing/portd_process.h"

namespace mimi::testing {

inline constexpr uint64_t kChaosEpoch = 5;

struct ClientMigration {
  enum class Outcome { kRunning, kConfirmed, kAborted, kFailed };

  std::string label;
  uint16_t suite = 1;
  Bytes group_id;
  std::vector<crypto::SigningKey> keys;  // members 0..2
  Bytes ratchet_tree;
  Bytes group_info;  // MLSMessage(GroupInfo) of kChaosEpoch, as the DS holds it
  Bytes commit;     // the tagged migration commit (from leaf 1)
  Bytes init_body;  // serialized MigrationInitRequest, once requested
  std::string id;   // hex nonce of the migration, once requested
  Outcome outcome = Outcome::kRunning;
  Bytes confirmation;  // what init answered with 200
  std::string error;   // why kFailed
  int requests = 0;    // request POSTs made
  int inits = 0;       // init POSTs made
};

const char* OutcomeName(ClientMigration::Outcome outcome);

// A fresh group `label` (its id derives from it) created at the source.
// kUnavailable when the source did not answer (retry).
Result<ClientMigration> CreateGroup(const PortdPair& pair,
                                    const std::string& label);

// Retries CreateGroup until `deadline`.
Result<ClientMigration> CreateGroupRetrying(
    const PortdPair& pair, const std::string& label,
    std::chrono::steady_clock::time_point deadline);

// Drives `m` to an outcome (request, then init) until `deadline` or `stop`.
// Sets m.outcome; kRunning at the deadline.
void RunClient(const PortdPair& pair, ClientMigration& m,
               std::chrono::steady_clock::time_point deadline,
               const std::atomic<bool>* stop = nullptr);

// Waits until the source row of `m` is purged or aborted and the target's
// imported or aborted (or `deadline`); OK when settled.
Status WaitSettled(const PortdPair& pair, const ClientMigration& m,
                   std::chrono::steady_clock::time_point deadline);

// The migration moved, exactly once: source purged + tombstone ("moved",
// naming the target), target imported and holding the group one epoch on,
// the migration commit among the target's messages exactly once, one
// imported target row and one source row for the group, and the client's
// confirmation at GET /mimi-portability/v1/migrations/{id}, signed by the
// source and naming the target.
std::vector<std::string> CheckMoved(const PortdPair& pair,
                                    const ClientMigration& m);

// The migration was aborted on both sides, the group lives only at the
// source, unfrozen: a new commit via /ds/v1/groups/{gid}/commits is accepted.
std::vector<std::string> CheckAbortedAndUsable(const PortdPair& pair,
                                               const ClientMigration& m);

// PRAGMA integrity_check on both databases.
std::vector<std::string> CheckIntegrity(const PortdPair& pair);

// "a; b; c" for failure messages.
std::string Join(const std::vector<std::string>& items);

}  // namespace mimi::testing

#endif  // MIMI_TESTING_CHAOS_CLIENT_H_
