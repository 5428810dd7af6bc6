// ContentBody: a MigrationContent body as the target receives it, held once
// (docs/protocol.md §3 "Endpoints", "Streamed content"; docs/performance.md
// "large").
//
// The body is appended as it arrives from the network into one buffer,
// reserved exactly when its length is declared, with a few bytes of room in
// front of it. As soon as the first bytes name the GroupState's ciphersuite
// the body is hashed as it arrives, so that the content hash costs no second
// pass over tens of MiB; a target that finds the row's suite differs hashes
// again, so the hash is always the row's suite's. The room in front takes
// the SignContent header (label and length, crypto::SignContentHeader) so
// that the signature is checked over the buffer itself rather than over a
// copy. The decoded MigrationContentView points into bytes().
//
// Not thread-safe: one request's thread fills and uses it.
#ifndef MIMI_PROTOCOL_CONTENT_BODY_H_
#define MIMI_PROTOCOL_CONTENT_BODY_H_

#include <cstdint>
#include <optional>

#include "crypto/hash.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::protocol {

class ContentBody {
 public:
  // Room for a SignContent header: label<V> ("MIMI Portability 1.0 " +
  // the struct's name) and a 4-byte length.
  static constexpr size_t kHeadroom = 64;

  // `expected_size`: the declared length (reserved at once), or 0.
  explicit ContentBody(uint64_t expected_size = 0);
  ContentBody(ContentBody&&) = default;
  ContentBody& operator=(ContentBody&&) = default;

  // Appends the next piece of the body (the caller bounds the total).
  void Append(ByteSpan piece);

  // The body so far.
  ByteSpan bytes() const {
    return ByteSpan(buffer_).subspan(kHeadroom);
  }
  size_t size() const { return buffer_.size() - kHeadroom; }

  // Hash(body) with `hash`: the one taken as the body arrived when it used
  // that algorithm, else computed now.
  Result<Bytes> Hash(crypto::HashAlgorithm hash);
  // Whether the body was hashed as it arrived with `hash` (for tests).
  bool HashedOnArrival(crypto::HashAlgorithm hash) const;

  // Writes `header` in front of the body and returns header followed by
  // the body's first `prefix_size` bytes: a SignContent over a prefix of
  // the body (ToBeSigned of the content), without a copy.
  Result<ByteSpan> PrefixWithHeader(ByteSpan header, size_t prefix_size);

  // The body, moved out (a move of the buffer within its allocation). Views
  // into bytes() are invalid afterwards.
  Bytes TakeBytes() &&;

 private:
  void TryStartHash();

  Bytes buffer_;
  // Set until the first bytes were examined for the suite.
  bool looking_for_suite_ = true;
  std::optional<crypto::IncrementalHash> hash_;
  std::optional<crypto::HashAlgorithm> digest_algorithm_;
  Bytes digest_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_CONTENT_BODY_H_
