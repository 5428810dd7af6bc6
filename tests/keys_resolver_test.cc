// PeerKeyResolver against a real local HTTPS server with its own test CA:
// valid and cached documents, expiry, rotation, an expired document, an
// unreachable peer, the wrong CA, a certificate for another domain at the
// mapped address, a DNS-only certificate at it, pinned keys, and many
// threads at once. Also the well-known handler it talks to.
#include <gtest/gtest.h>

#include <thread>

#include "crypto/message_signing.h"
#include "keys/ds_key_store.h"
#include "keys/key_document_handler.h"
#include "keys/peer_key_resolver.h"
#include "testing/https_server.h"
#include "testing/loopback_port.h"
#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi::keys {
namespace {

using ::mimi::testing::LeafCert;
using ::mimi::testing::TempDir;
using ::mimi::testing::TestCa;
using ::mimi::testing::TestHttpsServer;

constexpr char kPeer[] = "source.test";
constexpr int64_t kValidityMs = 60'000;

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = TestCa::Create(tmp_.path());
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::make_unique<TestCa>(std::move(*ca));
    auto leaf = ca_->IssueLeaf("source", {kPeer});
    ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
    leaf_ = *leaf;
    auto store = DsKeyStore::Open(tmp_ / "source-keys", {1, 2}, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    server_ = std::make_unique<TestHttpsServer>(leaf_);
    RegisterKeyDocumentHandler(server_->server(), kPeer, *store_, clock_,
                               kValidityMs);
    ASSERT_TRUE(server_->Start().ok());
  }

  PeerKeyResolverOptions Options(std::string host = "127.0.0.1") {
    PeerKeyResolverOptions o;
    o.locator = MappedPeerLocator({{kPeer, {host, server_->port()}}});
    o.ca_bundle_path = ca_->ca_cert_path().string();
    o.min_refetch_interval_ms = 10'000;
    o.timeout_ms = 3'000;
    return o;
  }

  MigrationContent Signed(crypto::CipherSuiteId suite) {
    MigrationContent m;
    m.migration_response.migration_request.source_domain_name = ToBytes(kPeer);
    m.group_state = ToBytes("state");
    auto key = store_->SigningKeyFor(suite);
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(crypto::SignMessage(**key, &m).ok());
    return m;
  }

  TempDir tmp_;
  FakeClock clock_;
  std::unique_ptr<TestCa> ca_;
  LeafCert leaf_;
  std::unique_ptr<DsKeyStore> store_;
  std::unique_ptr<TestHttpsServer> server_;
};

TEST_F(ResolverTest, HandlerServesTheStoresKeys) {
  httplib::SSLClient cli("127.0.0.1", server_->port());
  cli.set_ca_cert_path(ca_->ca_cert_path().string());
  cli.enable_server_certificate_verification(true);
  cli.set_tcp_nodelay(true);
  auto res = cli.Get(std::string(kKeyDocumentPath));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "max-age=60");
  auto doc = ParseKeyDocument(res->body, kPeer);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->valid_until, clock_.NowMillis() + kValidityMs);
  ASSERT_EQ(doc->keys.size(), 2u);
  EXPECT_EQ(doc->keys[0].public_key, store_->CurrentKeys()[0].public_key);
  EXPECT_EQ(doc->keys[1].public_key, store_->CurrentKeys()[1].public_key);
}

TEST_F(ResolverTest, VerifiesWithFetchedKeysAndCachesUntilValidUntil) {
  PeerKeyResolver resolver(Options(), clock_);
  EXPECT_TRUE(resolver.VerifyMessage(kPeer, 1, Signed(1)).ok());
  EXPECT_TRUE(resolver.VerifyMessage("SOURCE.test", 2, Signed(2)).ok());
  EXPECT_EQ(resolver.fetch_count(), 1u);

  // A forged signature: bad, and within the refetch interval no new fetch.
  MigrationContent forged = Signed(1);
  forged.group_state.push_back('!');
  Status s = resolver.VerifyMessage(kPeer, 1, forged);
  EXPECT_EQ(s.code(), StatusCode::kBadSignature);
  EXPECT_NE(s.detail().find("MigrationContent"), std::string::npos);
  EXPECT_EQ(resolver.fetch_count(), 1u);
  // Past the interval one refetch happens; the forgery stays bad.
  clock_.Advance(10'000);
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 1, forged).code(),
            StatusCode::kBadSignature);
  EXPECT_EQ(resolver.fetch_count(), 2u);
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 1, forged).code(),
            StatusCode::kBadSignature);
  EXPECT_EQ(resolver.fetch_count(), 2u);

  // The second document is valid until 70s; at 70s it is stale.
  clock_.Advance(kValidityMs);
  EXPECT_TRUE(resolver.VerifyMessage(kPeer, 1, Signed(1)).ok());
  EXPECT_EQ(resolver.fetch_count(), 3u);

  auto keys = resolver.KeysFor(kPeer, 2);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0], store_->CurrentKeys()[1].public_key);
  EXPECT_EQ(resolver.VerifyMessage("bad/domain", 1, Signed(1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 9, Signed(1)).code(),
            StatusCode::kUnsupported);
}

TEST_F(ResolverTest, PicksUpARotationAndHonoursOldKeyExpiry) {
  PeerKeyResolver resolver(Options(), clock_);
  MigrationContent by_old = Signed(1);
  ASSERT_TRUE(resolver.VerifyMessage(kPeer, 1, by_old).ok());
  ASSERT_TRUE(store_->Rotate(1, 30'000).ok());
  MigrationContent by_new = Signed(1);
  // The cached document does not know the new key yet and the refetch
  // interval has not passed.
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 1, by_new).code(),
            StatusCode::kBadSignature);
  clock_.Advance(10'000);
  EXPECT_TRUE(resolver.VerifyMessage(kPeer, 1, by_new).ok());
  EXPECT_EQ(resolver.fetch_count(), 2u);
  // The old key keeps verifying until its published expiry...
  EXPECT_TRUE(resolver.VerifyMessage(kPeer, 1, by_old).ok());
  // ...and not after, even from the cache.
  clock_.Advance(20'000);
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 1, by_old).code(),
            StatusCode::kBadSignature);
}

TEST_F(ResolverTest, ExpiredOrForeignDocumentIsUnavailable) {
  // One server for both names, so that TLS lets the documents be read.
  auto both = ca_->IssueLeaf("both", {kPeer, "other.test"});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  TestHttpsServer stale(*both);
  KeyDocument doc = BuildKeyDocument(kPeer, *store_, clock_.NowMillis(), -1);
  stale.server().Get(std::string(kKeyDocumentPath),
                     [&](const httplib::Request&, httplib::Response& res) {
                       res.set_content(SerializeKeyDocument(doc),
                                       "application/json");
                     });
  ASSERT_TRUE(stale.Start().ok());
  PeerKeyResolverOptions o = Options();
  o.locator = MappedPeerLocator({{kPeer, {"127.0.0.1", stale.port()}},
                                 {"other.test", {"127.0.0.1", stale.port()}}});
  PeerKeyResolver resolver(o, clock_);
  Status s = resolver.VerifyMessage(kPeer, 1, Signed(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.detail().find("expired"), std::string::npos) << s.detail();
  // A document naming another domain than the one asked for.
  s = resolver.VerifyMessage("other.test", 1, Signed(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.detail().find("KeyDocument.domain"), std::string::npos)
      << s.detail();
  EXPECT_EQ(resolver.fetch_count(), 0u);
}

TEST_F(ResolverTest, UnreachablePeerIsUnavailableAndBacksOff) {
  PeerKeyResolverOptions o = Options();
  const int dead_port = ::mimi::testing::UnusedLoopbackPort();
  std::atomic<int> attempts{0};
  o.locator = [&](std::string_view) -> Result<PeerAddress> {
    ++attempts;
    return PeerAddress{"127.0.0.1", dead_port};
  };
  o.fetch_failure_backoff_ms = 2'000;
  PeerKeyResolver resolver(o, clock_);
  Status first = resolver.VerifyMessage(kPeer, 1, Signed(1));
  EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.ToString();
  // Within the back-off the same error comes back without a new attempt.
  Status second = resolver.VerifyMessage(kPeer, 1, Signed(1));
  EXPECT_EQ(second, first);
  EXPECT_EQ(attempts.load(), 1);
  clock_.Advance(2'000);
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 1, Signed(1)).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(attempts.load(), 2);
}

TEST_F(ResolverTest, WrongCaIsUnavailable) {
  TempDir other_dir;
  auto other = TestCa::Create(other_dir.path(), "other-ca");
  ASSERT_TRUE(other.ok());
  PeerKeyResolverOptions o = Options();
  o.ca_bundle_path = other->ca_cert_path().string();
  PeerKeyResolver resolver(o, clock_);
  Status s = resolver.VerifyMessage(kPeer, 1, Signed(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.reason(), "peer-tls") << s.ToString();
  EXPECT_NE(s.detail().find("certificate verify result"), std::string::npos)
      << s.detail();
}

TEST_F(ResolverTest, MappedHostNameIsReachedAndTheDomainChecked) {
  // The address is a host name; the certificate names source.test (the
  // domain), not localhost, and that is what counts.
  PeerKeyResolver resolver(Options("localhost"), clock_);
  Status s = resolver.VerifyMessage(kPeer, 1, Signed(1));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// A certificate from the trusted CA, but for rogue.test (it also names
// 127.0.0.1), served at the address mapped for imposter.test: the peer is
// checked against its domain, so the document is never read.
TEST_F(ResolverTest, CertificateForAnotherDomainIsRefusedAsPeerTls) {
  auto rogue_leaf = ca_->IssueLeaf("rogue", {"rogue.test"});
  ASSERT_TRUE(rogue_leaf.ok()) << rogue_leaf.status().ToString();
  TestHttpsServer rogue(*rogue_leaf);
  RegisterKeyDocumentHandler(rogue.server(), "imposter.test", *store_, clock_,
                             kValidityMs);
  ASSERT_TRUE(rogue.Start().ok());
  PeerKeyResolverOptions o = Options();
  o.locator =
      MappedPeerLocator({{"imposter.test", {"127.0.0.1", rogue.port()}}});
  PeerKeyResolver resolver(o, clock_);
  Status s = resolver.VerifyMessage("imposter.test", 1, Signed(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(s.reason(), "peer-tls") << s.ToString();
  EXPECT_NE(s.detail().find("does not name imposter.test"), std::string::npos)
      << s.detail();
  EXPECT_EQ(resolver.fetch_count(), 0u);
}

// A certificate whose only name is DNS:target.test, served on 127.0.0.1
// where target.test is mapped: accepted, the address is not what is checked.
TEST_F(ResolverTest, DnsOnlyCertificateIsAcceptedAtTheMappedAddress) {
  auto leaf = ca_->IssueLeaf("target-dns-only", {"target.test"},
                             TestCa::Sans::kDnsOnly);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  TestHttpsServer target(*leaf);
  RegisterKeyDocumentHandler(target.server(), "target.test", *store_, clock_,
                             kValidityMs);
  ASSERT_TRUE(target.Start().ok());
  PeerKeyResolverOptions o = Options();
  o.locator =
      MappedPeerLocator({{"target.test", {"127.0.0.1", target.port()}}});
  PeerKeyResolver resolver(o, clock_);
  Status s = resolver.VerifyMessage("target.test", 1, Signed(1));
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resolver.fetch_count(), 1u);
}

TEST_F(ResolverTest, PinnedKeysAreUsedWithoutFetching) {
  PeerKeyResolverOptions o = Options();
  o.locator = MappedPeerLocator(
      {{kPeer, {"127.0.0.1", ::mimi::testing::UnusedLoopbackPort()}}});
  o.pinned[kPeer] = {PinnedKey{1, store_->CurrentKeys()[0].public_key}};
  PeerKeyResolver resolver(o, clock_);
  EXPECT_TRUE(resolver.VerifyMessage(kPeer, 1, Signed(1)).ok());
  MigrationContent forged = Signed(1);
  forged.signature[3] ^= 1;
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 1, forged).code(),
            StatusCode::kBadSignature);
  // No pinned key for suite 2: nothing verifies, nothing is fetched.
  EXPECT_EQ(resolver.VerifyMessage(kPeer, 2, Signed(2)).code(),
            StatusCode::kBadSignature);
  EXPECT_EQ(resolver.fetch_count(), 0u);
}

TEST_F(ResolverTest, ManyThreadsShareOneFetch) {
  PeerKeyResolver resolver(Options(), clock_);
  MigrationContent good = Signed(2);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        ok += resolver.VerifyMessage(kPeer, 2, good).ok();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(resolver.fetch_count(), 1u);
}

}  // namespace
}  // namespace mimi::keys
