#include "daemon/http_server.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi::daemon {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.plain_http = true;
    o.threads = 4;
    o.max_body_bytes = 1024;
    auto s = HttpServer::Create(o, &metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    server_->Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      ReplyJson(res, 200, {{"ok", true}});
    });
    server_->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/octet-stream");
    });
    server_->Get("/throw", [](const httplib::Request&, httplib::Response&) {
      throw std::runtime_error("boom");
    });
    server_->Get("/frozen", [](const httplib::Request&, httplib::Response& res) {
      ReplyError(res, Status(StatusCode::kFailedPrecondition, "group-frozen",
                             "group 00ff is frozen by migration ab"));
    });
    server_->Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      ReplyError(res, Status(StatusCode::kNotFound, "moved", "group left"),
                 {{"moved_to", "target.test"}});
    });
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_tcp_nodelay(true);
  }

  nlohmann::json Json(const httplib::Result& r) {
    return nlohmann::json::parse(r->body);
  }

  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, ServesRoutesAndCountsThemByPattern) {
  auto r = client_->Get("/ok");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r)["ok"], true);
  ASSERT_TRUE(client_->Get("/ok"));
  // httplib counts (in its logger) after the reply is on the wire, so the
  // client can be a moment ahead of the counter.
  const Labels ok_labels = {{"listener", "public"}, {"endpoint", "/ok"}, {"status", "200"}};
  for (int i = 0; i < 200 && metrics_.CounterValue("mimi_http_requests_total",
                                                   ok_labels) < 2;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(metrics_.CounterValue("mimi_http_requests_total", ok_labels), 2u);
  EXPECT_NE(metrics_.Render().find(
                "mimi_http_requests_total{listener=\"public\",endpoint=\"/ok\","
                "status=\"200\"} 2"),
            std::string::npos);
}

TEST_F(HttpServerTest, UnknownRouteIsJsonNotFound) {
  auto r = client_->Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json(r)["error"], "not-found");
  const Labels labels = {{"listener", "public"}, {"endpoint", "unmatched"}, {"status", "404"}};
  for (int i = 0; i < 200 && metrics_.CounterValue("mimi_http_requests_total", labels) < 1;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(metrics_.CounterValue("mimi_http_requests_total",
                                  {{"listener", "public"},
                                   {"endpoint", "unmatched"},
                                   {"status", "404"}}),
            1u);
}

TEST_F(HttpServerTest, OversizeBodyIsRefusedWithStableCode) {
  auto r = client_->Post("/echo", std::string(2048, 'x'), "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Json(r)["error"], "payload-too-large");
  auto small = client_->Post("/echo", std::string(512, 'y'), "application/octet-stream");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(small->body, std::string(512, 'y'));
}

TEST_F(HttpServerTest, HandlerExceptionIsAnInternalErrorNotACrash) {
  auto r = client_->Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(Json(r)["error"], "internal");
  EXPECT_EQ(Json(r)["detail"], "internal error");  // no internals leak
  EXPECT_TRUE(client_->Get("/ok"));  // and the server still serves
}

TEST_F(HttpServerTest, ReasonsAreTheWireCode) {
  auto r = client_->Get("/frozen");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Json(r)["error"], "group-frozen");
  auto m = client_->Get("/moved");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 410);
  EXPECT_EQ(Json(m)["error"], "moved");
  EXPECT_EQ(Json(m)["moved_to"], "target.test");
}

TEST_F(HttpServerTest, StopIsPromptAndIdempotent) {
  server_->Stop();
  server_->Stop();
  auto r = client_->Get("/ok");
  EXPECT_FALSE(r);
}

TEST(HttpServerTlsTest, BadCertificateFilesFailAtCreate) {
  Metrics metrics;
  HttpServerOptions o;
  o.cert_file = "/nonexistent/cert.pem";
  o.key_file = "/nonexistent/key.pem";
  auto s = HttpServer::Create(o, &metrics);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().detail().find("/nonexistent/cert.pem"), std::string::npos);
}

TEST(HttpStatusTest, Mapping) {
  EXPECT_EQ(HttpStatusFor(MalformedError("x")), 400);
  EXPECT_EQ(HttpStatusFor(Status(StatusCode::kBadSignature, "x")), 403);
  EXPECT_EQ(HttpStatusFor(UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(Status(StatusCode::kInvalidArgument,
                                 "wrong-content-type", "x")),
            415);
}

}  // namespace
}  // namespace mimi::daemon

namespace mimi::daemon {
namespace {

// The public listener over TLS: a client that trusts the test CA gets in, one
// that trusts another CA is refused at the handshake.
TEST(HttpServerTlsTest, ServesHttpsAndAWrongCaIsRefused) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "ca1");
  std::filesystem::create_directories(dir / "ca2");
  auto ca = testing::TestCa::Create(dir / "ca1", "ca-one");
  auto other = testing::TestCa::Create(dir / "ca2", "ca-two");
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto leaf = ca->IssueLeaf("server", {"source.test"});
  ASSERT_TRUE(leaf.ok());
  Metrics metrics;
  HttpServerOptions o;
  o.cert_file = leaf->cert_path.string();
  o.key_file = leaf->key_path.string();
  o.threads = 2;
  o.keep_alive_timeout = std::chrono::seconds(1);
  auto server = HttpServer::Create(o, &metrics);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  (*server)->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, 200, {{"status", "ok"}});
  });
  ASSERT_TRUE((*server)->Start().ok());
  const std::string url = "https://127.0.0.1:" + std::to_string((*server)->port());

  httplib::Client good(url);
  good.set_ca_cert_path(ca->ca_cert_path().c_str());
  good.enable_server_certificate_verification(true);
  auto r = good.Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);

  httplib::Client bad(url);
  bad.set_ca_cert_path(other->ca_cert_path().c_str());
  bad.enable_server_certificate_verification(true);
  auto refused = bad.Get("/healthz");
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification);
}

}  // namespace
}  // namespace mimi::daemon
