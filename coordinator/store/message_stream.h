// MessageStream: one stored protocol message read in pieces, for a message
// too large to load whole (a MigrationContent of tens of MiB that the
// source sends to the target; docs/protocol.md, "Streamed content").
//
// SqliteStore's opens a read connection of its own and an incremental blob
// handle on the message: the handle holds one read snapshot (WAL: it blocks
// no writer, only the checkpoint past that snapshot) from open to
// destruction, so a stream is kept only while its message is sent. Stored
// messages are write-once, so every Read sees the bytes GetMessage would.
//
// One stream is used by one thread at a time.
#ifndef MIMI_STORE_MESSAGE_STREAM_H_
#define MIMI_STORE_MESSAGE_STREAM_H_

#include <cstdint>
#include <span>

#include "mimi_portability/status.h"

namespace mimi::store {

class MessageStream {
 public:
  virtual ~MessageStream() = default;
  // The message's length; 0 when the row has no such message yet.
  virtual uint64_t size() const = 0;
  // Fills `out` with the message's bytes from `offset` on; kInvalidArgument
  // when that runs past size(), kUnavailable/kInternal when SQLite fails.
  virtual Status Read(uint64_t offset, std::span<uint8_t> out) = 0;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_MESSAGE_STREAM_H_
