// The daemon's instance identity (docs/protocol.md §4 "Lease ownership"):
// the id its lease holder is registered under, stable per data directory so
// that a restarted daemon recognises its own earlier incarnations' leases
// and takes them over at once.
//
// The id is `instance.id` from the config when set, else the one stored in
// <data_dir>/instance_id, created on the first start as "<host>-<12 random
// hex digits>" (the random part must really be random: a failing random
// source is an error, never an id another data directory could share).
// Either way the daemon holds an exclusive flock(2) on that file while it
// runs, so that a second daemon on the same data directory is refused at
// start instead of declaring the first one's leases dead.
//
// MakeInstanceId and ValidateInstanceId are pure functions of their inputs;
// an InstanceClaim belongs to one thread (the daemon keeps it for its life).
#ifndef MIMI_DAEMON_INSTANCE_ID_H_
#define MIMI_DAEMON_INSTANCE_ID_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "mimi_portability/status.h"

namespace mimi::daemon {

using RandomSource = std::function<Status(std::span<uint8_t> out)>;

inline constexpr char kInstanceIdFile[] = "instance_id";

// "<hostname>-<12 hex digits>" from 6 bytes of `random` (by default
// crypto::RandomBytes), the host name reduced to the id's characters; the
// source's error, with what it was for, when it fails.
Result<std::string> MakeInstanceId(const RandomSource& random = nullptr);

// 1 to 64 of [A-Za-z0-9._-]: what a lease owner can carry unambiguously
// ("/" and "#" separate its parts). kInvalidArgument naming `what`.
Status ValidateInstanceId(std::string_view id, std::string_view what);

// The instance id this daemon runs as, with the data directory's instance
// file locked until it is destroyed. Movable, not copyable.
class InstanceClaim {
 public:
  // `configured` (instance.id; empty = not set) or the stored id, created
  // if missing. kFailedPrecondition when another process holds the data
  // directory; kMalformed for a stored id that is not valid.
  static Result<InstanceClaim> Acquire(const std::string& data_dir,
                                       const std::string& configured,
                                       const RandomSource& random = nullptr);
  InstanceClaim(InstanceClaim&& other) noexcept;
  InstanceClaim& operator=(InstanceClaim&& other) noexcept;
  InstanceClaim(const InstanceClaim&) = delete;
  InstanceClaim& operator=(const InstanceClaim&) = delete;
  ~InstanceClaim();

  const std::string& id() const { return id_; }

 private:
  InstanceClaim(int fd, std::string id) : fd_(fd), id_(std::move(id)) {}
  int fd_ = -1;
  std::string id_;
};

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_INSTANCE_ID_H_
