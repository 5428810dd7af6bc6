// HttpsPeerTransport against a real HTTPS server from a test CA: the body
// arrives byte-identical whatever its size, upload progress is reported in
// order up to the whole body, an unreachable peer is kUnavailable, and the
// certificate is checked against the peer's domain, not the mapped address.
// TransferProgress, which the source feeds from that callback, is covered
// here too.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/peer_transport.h"
#include "protocol/transfer_progress.h"
#include "testing/https_server.h"
#include "testing/loopback_port.h"
#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi::protocol {
namespace {

using ::mimi::testing::TempDir;
using ::mimi::testing::TestCa;
using ::mimi::testing::TestHttpsServer;

constexpr char kPeer[] = "target.test";

class PeerTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = TestCa::Create(tmp_.path());
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::make_unique<TestCa>(std::move(*ca));
    ca_file_ = ca_->ca_cert_path().string();
    auto leaf = ca_->IssueLeaf("target", {kPeer});
    ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
    server_ = std::make_unique<TestHttpsServer>(*leaf);
    server_->server().Post("/echo-size", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_ = req.body;
        content_type_ = req.get_header_value("Content-Type");
      }
      res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  HttpsPeerTransportOptions Options(int port) {
    HttpsPeerTransportOptions o;
    o.client.locator = [port](std::string_view) -> Result<keys::PeerAddress> {
      return keys::PeerAddress{"127.0.0.1", port};
    };
    o.client.ca_file = ca_file_;
    o.client.connect_timeout = std::chrono::seconds(2);
    o.client.read_timeout = o.client.write_timeout = std::chrono::seconds(10);
    return o;
  }

  static Bytes Pattern(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
    return b;
  }

  TempDir tmp_;
  std::unique_ptr<TestCa> ca_;
  std::string ca_file_;
  std::unique_ptr<TestHttpsServer> server_;
  std::mutex mu_;
  std::string received_, content_type_;
};

TEST_F(PeerTransportTest, LargeBodyArrivesWholeWithOrderedProgress) {
  HttpsPeerTransport transport(Options(server_->port()));
  const Bytes body = Pattern(3 * 1024 * 1024 + 17);  // not a chunk multiple
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto r = transport.Post(kPeer, "/echo-size", body,
                          [&calls](uint64_t sent, uint64_t total) {
                            calls.emplace_back(sent, total);
                          });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::to_string(body.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(received_ == std::string(body.begin(), body.end()));
    EXPECT_EQ(content_type_, "application/mimi-portability");
  }
  // 256 KiB chunks: 13 calls, strictly increasing, the last one complete.
  ASSERT_EQ(calls.size(), 13u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, body.size());
    if (i > 0) {
      EXPECT_GT(calls[i].first, calls[i - 1].first);
    }
  }
  EXPECT_EQ(calls.back().first, body.size());

  // The connection is kept and reused: a second post works the same.
  calls.clear();
  auto again = transport.Post(kPeer, "/echo-size", body, nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->body, std::to_string(body.size()));
}

// PostStream (the source's content send): the peer receives exactly the
// bytes the source reads, read in chunks of at most 256 KiB at increasing
// offsets that cover the body once, never the whole body at once.
TEST_F(PeerTransportTest, StreamedBodyArrivesExactlyAsRead) {
  HttpsPeerTransport transport(Options(server_->port()));
  const Bytes stored = Pattern(3 * 1024 * 1024 + 17);  // not a chunk multiple
  std::vector<std::pair<uint64_t, size_t>> reads;
  BodySource source{stored.size(),
                    [&](uint64_t offset, std::span<uint8_t> out) {
                      reads.emplace_back(offset, out.size());
                      std::copy_n(stored.begin() + static_cast<ptrdiff_t>(offset),
                                  out.size(), out.begin());
                      return Status::Ok();
                    }};
  uint64_t last_progress = 0;
  auto r = transport.PostStream(kPeer, "/echo-size", source,
                                [&](uint64_t sent, uint64_t total) {
                                  EXPECT_EQ(total, stored.size());
                                  EXPECT_GT(sent, last_progress);
                                  last_progress = sent;
                                });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::to_string(stored.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(received_ == std::string(stored.begin(), stored.end()));
    EXPECT_EQ(content_type_, "application/mimi-portability");
  }
  EXPECT_EQ(last_progress, stored.size());
  uint64_t next = 0;
  for (const auto& [offset, n] : reads) {
    EXPECT_EQ(offset, next);
    EXPECT_LE(n, 256u * 1024);
    next = offset + n;
  }
  EXPECT_EQ(next, stored.size());
}

// A body the source cannot read is its own failure, returned as it is, and
// the peer's handler never sees a request.
TEST_F(PeerTransportTest, StreamedBodyReadFailureIsReturned) {
  HttpsPeerTransport transport(Options(server_->port()));
  BodySource source{2 * 1024 * 1024, [](uint64_t offset, std::span<uint8_t>) {
                      if (offset == 0) return Status::Ok();
                      return InternalError("disk says no");
                    }};
  auto r = transport.PostStream(kPeer, "/echo-size", source, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().detail(), "disk says no");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(received_.empty());
}

TEST_F(PeerTransportTest, EmptyBodyReportsCompletion) {
  HttpsPeerTransport transport(Options(server_->port()));
  int calls = 0;
  auto r = transport.Post(kPeer, "/echo-size", Bytes{},
                          [&calls](uint64_t sent, uint64_t total) {
                            EXPECT_EQ(sent, 0u);
                            EXPECT_EQ(total, 0u);
                            ++calls;
                          });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "0");
  EXPECT_EQ(calls, 1);
}

TEST_F(PeerTransportTest, UnreachablePeerIsUnavailable) {
  HttpsPeerTransport transport(Options(::mimi::testing::UnusedLoopbackPort()));
  auto r = transport.Post(kPeer, "/echo-size", Pattern(1000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(PeerTransportTest, UntrustedCertificateIsUnavailable) {
  std::filesystem::create_directory(tmp_.path() / "other");
  auto other = TestCa::Create(tmp_.path() / "other", "other-ca");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  HttpsPeerTransportOptions o = Options(server_->port());
  o.client.ca_file = other->ca_cert_path().string();
  HttpsPeerTransport transport(o);
  auto r = transport.Post(kPeer, "/echo-size", Pattern(10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().reason(), "peer-tls") << r.status().ToString();
}

// A certificate from the trusted CA, but for rogue.test (it also names
// 127.0.0.1), at the address mapped for imposter.test: refused before any
// request is sent, as a TLS failure.
TEST_F(PeerTransportTest, CertificateForAnotherDomainIsRefusedAsPeerTls) {
  auto rogue_leaf = ca_->IssueLeaf("rogue", {"rogue.test"});
  ASSERT_TRUE(rogue_leaf.ok()) << rogue_leaf.status().ToString();
  TestHttpsServer rogue(*rogue_leaf);
  std::atomic<int> requests{0};
  rogue.server().Post("/echo-size",
                      [&requests](const httplib::Request&, httplib::Response&) {
                        ++requests;
                      });
  ASSERT_TRUE(rogue.Start().ok());
  HttpsPeerTransport transport(Options(rogue.port()));
  auto r = transport.Post("imposter.test", "/echo-size", Pattern(10));
  ASSERT_FALSE(r.ok()) << "HTTP " << r->status;
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().reason(), "peer-tls") << r.status().ToString();
  EXPECT_NE(r.status().detail().find("does not name imposter.test"),
            std::string::npos)
      << r.status().detail();
  EXPECT_EQ(requests.load(), 0);
}

// A certificate whose only name is DNS:target.test, on 127.0.0.1 where
// target.test is mapped: accepted, the address is not what is checked.
TEST_F(PeerTransportTest, DnsOnlyCertificateIsAcceptedAtTheMappedAddress) {
  auto leaf = ca_->IssueLeaf("target-dns-only", {kPeer},
                             TestCa::Sans::kDnsOnly);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  TestHttpsServer target(*leaf);
  target.server().Post("/echo-size",
                       [](const httplib::Request& req, httplib::Response& res) {
                         res.set_content(std::to_string(req.body.size()),
                                         "text/plain");
                       });
  ASSERT_TRUE(target.Start().ok());
  HttpsPeerTransport transport(Options(target.port()));
  auto r = transport.Post(kPeer, "/echo-size", Pattern(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "10");
}

TEST(TransferProgressTest, FollowsOneAttempt) {
  FakeClock clock;
  clock.Set(1000);
  TransferProgress progress(clock);
  EXPECT_FALSE(progress.Get("a").has_value());
  progress.Update("a", 5);  // no attempt: ignored
  EXPECT_FALSE(progress.Get("a").has_value());

  progress.Begin("a", 100);
  clock.Advance(250);
  progress.Update("a", 40);
  auto t = progress.Get("a");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->sent_bytes, 40u);
  EXPECT_EQ(t->total_bytes, 100u);
  EXPECT_EQ(t->started_at, 1000);
  EXPECT_EQ(t->updated_at, 1250);
  EXPECT_FALSE(progress.Get("b").has_value());

  // A resend starts over.
  progress.Begin("a", 100);
  EXPECT_EQ(progress.Get("a")->sent_bytes, 0u);
  EXPECT_EQ(progress.Get("a")->started_at, 1250);

  progress.End("a");
  EXPECT_FALSE(progress.Get("a").has_value());
  progress.End("a");  // harmless
}

TEST(TransferProgressTest, ConcurrentWritersAndReaders) {
  FakeClock clock;
  TransferProgress progress(clock);
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&progress, &bad, w] {
      const std::string id = "m" + std::to_string(w);
      for (int round = 0; round < 200; ++round) {
        progress.Begin(id, 1000);
        uint64_t last = 0;
        for (uint64_t s = 100; s <= 1000; s += 100) {
          progress.Update(id, s);
          auto t = progress.Get(id);
          if (!t || t->sent_bytes < last || t->total_bytes != 1000) bad = true;
          last = s;
        }
        progress.End(id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(bad);
  for (int w = 0; w < 4; ++w) {
    EXPECT_FALSE(progress.Get("m" + std::to_string(w)).has_value());
  }
}

}  // namespace
}  // namespace mimi::protocol
