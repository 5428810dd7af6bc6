#include "protocol/content_body.h"

#include <algorithm>
#include <cstring>

#include "crypto/ciphersuite.h"
#include "mimi_portability/messages.h"

namespace mimi::protocol {
namespace {

// The MigrationResponse and the GroupState's first fields are a few hundred
// bytes; past this a body that still does not name a suite is malformed,
// and the decoder will say so.
constexpr size_t kSuiteWithin = 64 * 1024;

}  // namespace

ContentBody::ContentBody(uint64_t expected_size) {
  buffer_.reserve(kHeadroom + static_cast<size_t>(expected_size));
  buffer_.resize(kHeadroom);
}

void ContentBody::Append(ByteSpan piece) {
  if (buffer_.size() + piece.size() > buffer_.capacity()) {
    // Undeclared length (chunked): grow by half, not double, so that the
    // moment of growth holds at most 2.5 times the body.
    buffer_.reserve(std::max(buffer_.size() + piece.size(),
                             buffer_.capacity() + buffer_.capacity() / 2));
  }
  buffer_.insert(buffer_.end(), piece.begin(), piece.end());
  if (hash_) {
    if (!hash_->Update(piece).ok()) hash_.reset();  // hashed again later
  } else if (looking_for_suite_) {
    TryStartHash();
  }
}

void ContentBody::TryStartHash() {
  const ByteSpan body = bytes();
  std::optional<uint16_t> suite = PeekMigrationContentSuite(body);
  if (!suite) {
    if (body.size() > kSuiteWithin) looking_for_suite_ = false;
    return;
  }
  looking_for_suite_ = false;
  auto cs = crypto::LookupCipherSuite(*suite);
  if (!cs.ok()) return;
  auto started = crypto::IncrementalHash::Start(cs->hash);
  if (!started.ok() || !started->Update(body).ok()) return;
  hash_.emplace(std::move(*started));
}

bool ContentBody::HashedOnArrival(crypto::HashAlgorithm hash) const {
  return (hash_ && hash_->algorithm() == hash) ||
         (digest_algorithm_ && *digest_algorithm_ == hash);
}

Result<Bytes> ContentBody::Hash(crypto::HashAlgorithm hash) {
  if (hash_ && hash_->algorithm() == hash) {
    MIMI_ASSIGN_OR_RETURN(digest_, hash_->Finish());
    hash_.reset();
    digest_algorithm_ = hash;
  }
  if (digest_algorithm_ && *digest_algorithm_ == hash) return digest_;
  return crypto::Hash(hash, bytes());
}

Result<ByteSpan> ContentBody::PrefixWithHeader(ByteSpan header,
                                               size_t prefix_size) {
  if (header.size() > kHeadroom || prefix_size > size()) {
    return InternalError("content: " + std::to_string(header.size()) +
                         "-byte header or " + std::to_string(prefix_size) +
                         "-byte prefix does not fit");
  }
  uint8_t* start = buffer_.data() + kHeadroom - header.size();
  std::memcpy(start, header.data(), header.size());
  return ByteSpan(start, header.size() + prefix_size);
}

Bytes ContentBody::TakeBytes() && {
  buffer_.erase(buffer_.begin(), buffer_.begin() + kHeadroom);
  return std::move(buffer_);
}

}  // namespace mimi::protocol
