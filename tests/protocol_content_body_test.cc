// ContentBody, the target's one copy of a MigrationContent as it arrives:
// the hash taken on arrival is the hash of the whole body (and a hash with
// another algorithm is computed afresh, never the arrival one), a body of
// undeclared length grows to hold every piece, the SignContent header goes
// in front of the body without copying it, and TakeBytes gives the body.
#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/ciphersuite.h"
#include "crypto/hash.h"
#include "crypto/labeled_signature.h"
#include "mimi_portability/group_state.h"
#include "mimi_portability/messages.h"
#include "protocol/content_body.h"

namespace mimi::protocol {
namespace {

using crypto::HashAlgorithm;

// A serialized MigrationContent whose GroupState names `suite`.
Bytes ContentOfSuite(uint16_t suite, size_t state_padding) {
  GroupState state;
  state.cipher_suite = suite;
  state.group_id = ToBytes("content-body-group");
  state.epoch = 3;
  state.ratchet_tree = Bytes(state_padding);
  for (size_t i = 0; i < state_padding; ++i) {
    state.ratchet_tree[i] = static_cast<uint8_t>(i * 13 + (i >> 8));
  }
  MigrationContent content;
  content.migration_response.migration_request = {
      ToBytes("source.test"), ToBytes("target.test"), state.group_id, 3};
  content.migration_response.nonce.fill(7);
  content.migration_response.signature = Bytes(64, 1);
  content.group_state = *Encode(state);
  content.signature = Bytes(64, 2);
  return *Encode(content);
}

ContentBody Arrive(const Bytes& bytes, uint64_t declared, size_t piece) {
  ContentBody body(declared);
  for (size_t off = 0; off < bytes.size(); off += piece) {
    body.Append(ByteSpan(bytes).subspan(off, std::min(piece, bytes.size() - off)));
  }
  return body;
}

TEST(ContentBodyTest, HashTakenOnArrivalIsTheWholeBodysHash) {
  // Suites 1 and 2 hash with SHA-256, suite 7 with SHA-384.
  for (uint16_t suite : {1, 2, 7}) {
    SCOPED_TRACE(suite);
    const HashAlgorithm algorithm = crypto::LookupCipherSuite(suite)->hash;
    const Bytes bytes = ContentOfSuite(suite, 300 * 1024 + 11);
    // In pieces smaller than the prefix that names the suite, and chunked
    // (no declared length).
    ContentBody body = Arrive(bytes, 0, 7);
    ASSERT_EQ(body.size(), bytes.size());
    EXPECT_TRUE(std::ranges::equal(body.bytes(), bytes));
    EXPECT_TRUE(body.HashedOnArrival(algorithm));
    auto hash = body.Hash(algorithm);
    ASSERT_TRUE(hash.ok());
    EXPECT_EQ(*hash, *crypto::Hash(algorithm, bytes));
    EXPECT_EQ(*body.Hash(algorithm), *hash);  // asked again: the same
    // Another algorithm (a row whose suite differs from the state's): the
    // body is hashed afresh with that one.
    EXPECT_FALSE(body.HashedOnArrival(HashAlgorithm::kSha512));
    EXPECT_EQ(*body.Hash(HashAlgorithm::kSha512),
              *crypto::Hash(HashAlgorithm::kSha512, bytes));
  }
}

TEST(ContentBodyTest, BytesThatNameNoSuiteAreHashedWhenAsked) {
  Bytes junk(200 * 1024, 0xff);
  ContentBody body = Arrive(junk, junk.size(), 4096);
  EXPECT_FALSE(body.HashedOnArrival(HashAlgorithm::kSha256));
  EXPECT_EQ(*body.Hash(HashAlgorithm::kSha256),
            *crypto::Hash(HashAlgorithm::kSha256, junk));
}

TEST(ContentBodyTest, SignContentIsBuiltInFrontOfTheBody) {
  const Bytes bytes = ContentOfSuite(1, 5000);
  ContentBody body = Arrive(bytes, bytes.size(), 1000);
  auto view = DecodeMigrationContentView(body.bytes());
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  auto decoded = Decode<MigrationContent>(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(std::ranges::equal(view->group_state, decoded->group_state));
  EXPECT_TRUE(std::ranges::equal(view->signature, decoded->signature));
  EXPECT_TRUE(std::ranges::equal(view->tbs, *ToBeSigned(*decoded)));
  const Bytes header = *crypto::SignContentHeader(
      SignatureLabel<MigrationContent>(), view->tbs.size());
  auto sign_content = body.PrefixWithHeader(header, view->tbs.size());
  ASSERT_TRUE(sign_content.ok());
  EXPECT_TRUE(std::ranges::equal(
      *sign_content,
      *crypto::SignContent(SignatureLabel<MigrationContent>(), view->tbs)));
  // The body itself is untouched, and taken out whole.
  EXPECT_TRUE(std::ranges::equal(body.bytes(), bytes));
  EXPECT_EQ(std::move(body).TakeBytes(), bytes);
  // A header larger than the room in front is refused, not written.
  ContentBody other = Arrive(bytes, 0, 4096);
  EXPECT_FALSE(other.PrefixWithHeader(Bytes(ContentBody::kHeadroom + 1), 10).ok());
}

}  // namespace
}  // namespace mimi::protocol
