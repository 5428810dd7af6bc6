#include "daemon/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"

namespace mimi::daemon {
namespace {

constexpr std::string_view kMinimal = R"(
domain = "source.test"
data_dir = "/tmp/x"
[tls]
insecure_plain_http = true
)";

Status ParseError(std::string_view text, ConfigOverrides o = {}) {
  auto c = ParseConfig(text, o, "test.toml");
  EXPECT_FALSE(c.ok());
  return c.status();
}

TEST(ConfigTest, MinimalConfigGetsDocumentedDefaults) {
  auto c = ParseConfig(kMinimal, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->domain, "source.test");
  EXPECT_EQ(c->listen, (HostPort{"127.0.0.1", 8443}));
  EXPECT_EQ(c->max_body_bytes, 64ull << 20);
  EXPECT_TRUE(c->admin_enabled);
  EXPECT_EQ(c->admin_listen, (HostPort{"127.0.0.1", 8444}));
  EXPECT_EQ(c->policy.response_ttl_seconds, 600);
  EXPECT_EQ(c->policy.target_policy, "client-token");
  EXPECT_EQ(c->PeerAddress("target.test"), (HostPort{"target.test", 443}));
  EXPECT_EQ(c->read_timeout_seconds, 5);
}

// A silent client holds a server thread for at most this long per wait
// (the TLS handshake included), so it must be short and settable.
TEST(ConfigTest, ReadTimeoutIsSettableAndBounded) {
  auto c = ParseConfig("read_timeout_seconds = 2\n" + std::string(kMinimal), {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->read_timeout_seconds, 2);
  for (const char* bad : {"0", "301"}) {
    auto b = ParseConfig(
        "read_timeout_seconds = " + std::string(bad) + "\n" + std::string(kMinimal),
        {});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().detail().find("read_timeout_seconds"), std::string::npos);
  }
}

// Lease ownership (docs/protocol.md §4): the instance id and the heartbeat
// are read, defaulted and checked, each error naming its setting.
TEST(ConfigTest, InstanceIdAndHeartbeatAreReadAndChecked) {
  auto d = ParseConfig(kMinimal, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->instance_id, "");
  EXPECT_EQ(d->recovery.heartbeat_ms, 2000);
  EXPECT_EQ(d->recovery.heartbeat_timeout_ms, 6000);
  EXPECT_TRUE(d->recovery.reclaim_dead_leases);
  auto c = ParseConfig(std::string(kMinimal) + R"(
[instance]
id = "node-a.example_1"
[recovery]
heartbeat_ms = 500
heartbeat_timeout_ms = 1500
reclaim_dead_leases = false
)",
                       {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->instance_id, "node-a.example_1");
  EXPECT_EQ(c->recovery.heartbeat_ms, 500);
  EXPECT_EQ(c->recovery.heartbeat_timeout_ms, 1500);
  EXPECT_FALSE(c->recovery.reclaim_dead_leases);
  const std::pair<const char*, const char*> bad[] = {
      {"[instance]\nid = \"a/b\"\n", "instance.id"},
      {"[instance]\nid = \"\"\nother = 1\n", "instance.other"},
      {"[recovery]\nheartbeat_ms = 5\n", "recovery.heartbeat_ms"},
      {"[recovery]\nheartbeat_ms = 1000\nheartbeat_timeout_ms = 2999\n",
       "recovery.heartbeat_timeout_ms"},
      {"[recovery]\nreclaim_dead_leases = 1\n", "recovery.reclaim_dead_leases"},
  };
  for (const auto& [text, key] : bad) {
    Status s = ParseError(std::string(kMinimal) + text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(s.detail().find(key), std::string::npos) << s.detail();
  }
}

// ds.join_store_transactions (docs/protocol.md §4 "One commit per step"):
// on by default, off when asked, and only true or false.
TEST(ConfigTest, JoinStoreTransactionsIsABoolean) {
  auto d = ParseConfig(kMinimal, {});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->ds.join_store_transactions);
  auto c = ParseConfig(
      std::string(kMinimal) + "[ds]\njoin_store_transactions = false\n", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->ds.join_store_transactions);
  for (const char* value : {"0", "\"false\"", "[true]"}) {
    Status s = ParseError(std::string(kMinimal) +
                          "[ds]\njoin_store_transactions = " + value + "\n");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << value;
    EXPECT_NE(s.detail().find("ds.join_store_transactions"), std::string::npos)
        << s.detail();
  }
}

TEST(ConfigTest, FullConfigIsRead) {
  auto c = ParseConfig(R"(
domain = "target.test"
listen = "127.0.0.1:9443"
admin_listen = "127.0.0.1:9444"
data_dir = "/var/lib/mimi"
log_level = "debug"
ciphersuites = [1, 2]
max_body_bytes = 2048
server_threads = 4
migration_workers = 3
[tls]
insecure_plain_http = true
[peers]
"source.test" = "127.0.0.1:8443"
[policy]
target = "any"
deny_peers = ["evil.test"]
group_cooldown_seconds = 30
[recovery]
max_attempts = 7
)",
                       {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, (HostPort{"127.0.0.1", 9443}));
  EXPECT_EQ(c->admin_listen, (HostPort{"127.0.0.1", 9444}));
  EXPECT_EQ(c->ciphersuites, (std::vector<uint16_t>{1, 2}));
  EXPECT_EQ(c->PeerAddress("source.test"), (HostPort{"127.0.0.1", 8443}));
  EXPECT_EQ(c->policy.deny_peers, std::vector<std::string>{"evil.test"});
  EXPECT_EQ(c->policy.group_cooldown_seconds, 30);
  EXPECT_EQ(c->recovery.max_attempts, 7);
  EXPECT_EQ(c->server_threads, 4);
  EXPECT_EQ(c->migration_workers, 3);
}

TEST(ConfigTest, OverridesWinOverTheFile) {
  ConfigOverrides o;
  o.domain = "other.test";
  o.listen = "0.0.0.0:1234";
  o.peers = {"target.test=127.0.0.1:7000"};
  auto c = ParseConfig(kMinimal, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->domain, "other.test");
  EXPECT_EQ(c->listen, (HostPort{"0.0.0.0", 1234}));
  EXPECT_EQ(c->PeerAddress("target.test"), (HostPort{"127.0.0.1", 7000}));
}

TEST(ConfigTest, ErrorsNameTheSetting) {
  struct Case {
    std::string text;
    std::string expected_detail_start;
  };
  const std::string base = "domain = \"a.test\"\ndata_dir = \"/d\"\n";
  const std::string plain = "[tls]\ninsecure_plain_http = true\n";
  std::vector<Case> cases = {
      {"data_dir = \"/d\"\n" + plain, "config: domain: is required"},
      {"domain = \"A.test\"\ndata_dir = \"/d\"\n" + plain,
       "config: domain: must be a lowercase DNS name"},
      {"domain = \"a.test\"\n" + plain, "config: data_dir: is required"},
      {base, "config: tls.cert: is required"},
      {base + "[tls]\ncert = \"/nonexistent/c.pem\"\nkey = "
              "\"/nonexistent/k.pem\"\n",
       "config: tls.cert: no such file"},
      {base + "listen = \"host:99999\"\n" + plain,
       "config: listen: port out of range"},
      {base + "ciphersuites = [9]\n" + plain, "config: ciphersuites: suite 9"},
      // Floats are not suites; 21e40 is beyond any integer (the Config fuzz
      // target found the conversion to be undefined behaviour).
      {base + "ciphersuites = [1, 21e40]\n" + plain,
       "config: ciphersuites: must hold integers 1..65535"},
      {base + "ciphersuites = [1.0]\n" + plain,
       "config: ciphersuites: must hold integers 1..65535"},
      {base + "ciphersuites = [nan]\n" + plain,
       "config: ciphersuites: must hold integers 1..65535"},
      {base + "log_level = \"loud\"\n" + plain, "config: log_level:"},
      {base + "max_body_bytes = \"big\"\n" + plain,
       "config: max_body_bytes: must be an integer"},
      {base + "migration_workers = 0\n" + plain,
       "config: migration_workers: must be between 1 and 1024"},
      {base + "lsten = \"x\"\n" + plain, "config: unknown setting 'lsten'"},
      {base + "[tls]\ninsecure_plain_http = true\ncret = \"x\"\n",
       "config: unknown setting 'tls.cret'"},
      {base + plain + "[policy]\ntarget = \"nobody\"\n",
       "config: policy.target:"},
      {base + plain +
           "[recovery]\nbackoff_initial_ms = 10\nbackoff_max_ms = 5\n",
       "config: recovery.backoff_max_ms:"},
      {base + plain + "[peers]\n\"b.test\" = 5\n", "config: peers.b.test:"},
      {"domain = \n", "config: test.toml:1:"},
  };
  for (const Case& c : cases) {
    Status s = ParseError(c.text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(s.detail().rfind(c.expected_detail_start, 0), 0u)
        << "got: " << s.detail() << "\nfor:\n" << c.text;
  }
}

// Behind nginx: a plain listener on loopback only, no certificate of its
// own, and peers still over HTTPS (insecure_plain_http stays false).
TEST(ConfigTest, TerminatedByProxyNeedsALoopbackListener) {
  const std::string base = "domain = \"a.test\"\ndata_dir = \"/d\"\n";
  const std::string proxied = "[tls]\nterminated_by_proxy = true\n";
  for (const char* listen : {"127.0.0.1:8443", "[::1]:8443", "localhost:1"}) {
    auto c = ParseConfig(base + "listen = \"" + listen + "\"\n" + proxied, {});
    ASSERT_TRUE(c.ok()) << listen << ": " << c.status().ToString();
    EXPECT_TRUE(c->tls.terminated_by_proxy);
    EXPECT_FALSE(c->tls.insecure_plain_http);
  }
  for (const char* listen : {"0.0.0.0:8443", "[::]:8443", "192.0.2.1:8443"}) {
    Status s = ParseError(base + "listen = \"" + listen + "\"\n" + proxied);
    EXPECT_EQ(s.detail().rfind("config: listen: must be a loopback address", 0),
              0u)
        << listen << ": " << s.detail();
  }
}

TEST(ConfigTest, AdminListenerCanBeTurnedOff) {
  auto d = ParseConfig("admin_listen = \"off\"\n" + std::string(kMinimal), {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->admin_enabled);
  ConfigOverrides o;
  o.admin_listen = "127.0.0.1:0";
  auto e = ParseConfig("admin_listen = \"off\"\n" + std::string(kMinimal), o);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->admin_enabled);
  EXPECT_EQ(e->admin_listen.port, 0);
}

TEST(ConfigTest, BadPeerOverrideIsRejected) {
  ConfigOverrides o;
  o.peers = {"no-equals-sign"};
  EXPECT_EQ(ParseError(kMinimal, o).detail().rfind("config: --peer:", 0), 0u);
}

// An integer setting held in an int was cast from the file's int64: 2^32 + 2
// server threads loaded as 2, inside the bounds, so the daemon ran with a
// value nobody wrote. The config fuzz target checks every integer setting
// against the file.
TEST(ConfigTest, AnIntegerTooLargeForItsSettingIsRefusedNotWrapped) {
  for (const std::string key :
       {"server_threads", "migration_workers", "keep_alive_seconds",
        "read_timeout_seconds"}) {
    Status s = ParseError(std::string(kMinimal.substr(0, kMinimal.find('['))) +
                          key + " = 4294967298\n[tls]\ninsecure_plain_http = true\n");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s.detail(), "config: " + key + ": must be at most 2147483647");
  }
  Status s = ParseError(std::string(kMinimal) +
                        "[recovery]\nmax_attempts = 4294967297\n");
  EXPECT_EQ(s.detail(), "config: recovery.max_attempts: must be at most 2147483647");
}

// std::filesystem::is_regular_file throws for a name the system cannot look
// up (too long, a directory without search permission); a config naming one
// must get a setting's error, not an exception out of ParseConfig.
TEST(ConfigTest, AFileThatCannotBeLookedUpIsASettingsError) {
  const std::string base = "domain = \"a.test\"\ndata_dir = \"/d\"\n";
  const std::string too_long(300, 'c');
  const std::pair<std::string, std::string> cases[] = {
      {"[tls]\ncert = \"" + too_long + "\"\nkey = \"k\"\n", "tls.cert"},
      {"listen = \"127.0.0.1:1\"\n[tls]\nterminated_by_proxy = true\nca = \"" +
           too_long + "\"\n",
       "tls.ca"},
  };
  for (const auto& [text, key] : cases) {
    Status s = ParseError(base + text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(s.detail().rfind("config: " + key + ": ", 0), 0u) << s.detail();
  }
}

TEST(ConfigTest, MissingFileIsAClearError) {
  auto c = LoadConfigFile("/nonexistent/mimi.toml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().detail(), "config: cannot read /nonexistent/mimi.toml");
}

// [ds]: the Delivery Service mimi-portd drives (embedded, or an operator's
// own over the HTTP hooks).
class DsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = (dir_ / "hook.secret").string();
    std::ofstream(secret_) << std::string(64, 'a') << "\n";
    std::filesystem::permissions(secret_, std::filesystem::perms::owner_read |
                                              std::filesystem::perms::owner_write);
  }
  std::string Text(const std::string& ds_table) const {
    return std::string(kMinimal) + "[ds]\n" + ds_table;
  }
  testing::TempDir dir_;
  std::string secret_;
};

TEST_F(DsConfigTest, EmbeddedIsTheDefault) {
  auto c = ParseConfig(kMinimal, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ds.mode, "embedded");
  EXPECT_EQ(c->ds.timeout_ms, 5000);
  EXPECT_EQ(c->ds.max_group_id_bytes, 256);
}

TEST_F(DsConfigTest, MaxGroupIdBytesIsReadAndBounded) {
  auto c = ParseConfig(Text("max_group_id_bytes = 64\n"), {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ds.max_group_id_bytes, 64);
  for (const char* bad : {"0", "-1", "65536"}) {
    Status s = ParseError(Text(std::string("max_group_id_bytes = ") + bad + "\n"));
    EXPECT_EQ(s.detail().rfind("config: ds.max_group_id_bytes:", 0), 0u) << s.detail();
  }
}

TEST_F(DsConfigTest, HttpModeIsRead) {
  auto c = ParseConfig(Text("mode = \"http\"\nbase_url = \"http://127.0.0.1:9000/ds\"\n"
                            "secret_file = \"" + secret_ + "\"\ntimeout_ms = 1500\n"),
                       {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ds.mode, "http");
  EXPECT_EQ(c->ds.base_url, "http://127.0.0.1:9000/ds");
  EXPECT_EQ(c->ds.secret_file, secret_);
  EXPECT_EQ(c->ds.timeout_ms, 1500);
}

TEST_F(DsConfigTest, ErrorsNameTheSetting) {
  const std::string http = "mode = \"http\"\n";
  const std::string secret = "secret_file = \"" + secret_ + "\"\n";
  const std::string local = "base_url = \"http://127.0.0.1:9000\"\n";
  struct Case {
    std::string ds_table;
    std::string expected_detail_start;
  };
  std::vector<Case> cases = {
      {"mode = \"grpc\"\n", "config: ds.mode: must be"},
      {http + secret, "config: ds.base_url: is required"},
      {http + secret + "base_url = \"ftp://ds\"\n", "config: ds.base_url: must start"},
      {http + secret + "base_url = \"http://ds.example:80\"\n",
       "config: ds.base_url: plain http:// is allowed only to a loopback host"},
      {http + local, "config: ds.secret_file: is required"},
      {http + local + "secret_file = \"/nonexistent/s\"\n",
       "config: ds.secret_file: no such file"},
      {http + local + secret + "timeout_ms = 5\n", "config: ds.timeout_ms:"},
      {http + local + secret + "ca = \"/nonexistent/ca.pem\"\n",
       "config: ds.ca: needs an https://"},
      {http + secret + "base_url = \"https://ds.example\"\nca = \"/nonexistent/ca.pem\"\n",
       "config: ds.ca: no such file"},
      {http + local + secret + "secret = \"inline\"\n", "config: unknown setting 'ds.secret'"},
  };
  for (const Case& c : cases) {
    Status s = ParseError(Text(c.ds_table));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.ds_table;
    EXPECT_EQ(s.detail().rfind(c.expected_detail_start, 0), 0u)
        << "got: " << s.detail() << "\nfor:\n" << c.ds_table;
  }
}

TEST_F(DsConfigTest, SecretFileMustBeTheOwnersOnly) {
  std::filesystem::permissions(secret_, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  Status s = ParseError(Text("mode = \"http\"\nbase_url = \"https://ds.example\"\n"
                             "secret_file = \"" + secret_ + "\"\n"));
  EXPECT_EQ(s.detail().rfind("config: ds.secret_file: must be readable by its owner only", 0),
            0u)
      << s.detail();
}

// [store]: SQLite by default; PostgreSQL with a URL that holds no password,
// the password in an owner-only file, and an external DS (the embedded DS
// keeps its tables in SQLite).
class StoreConfigTest : public DsConfigTest {
 protected:
  std::string WithStore(const std::string& store_table,
                        bool http_ds = true) const {
    std::string text = std::string(kMinimal);
    if (http_ds) {
      text += "[ds]\nmode = \"http\"\nbase_url = \"http://127.0.0.1:9000\"\n"
              "secret_file = \"" + secret_ + "\"\n";
    }
    return text + "[store]\n" + store_table;
  }
};

TEST_F(StoreConfigTest, SqliteIsTheDefault) {
  auto c = ParseConfig(kMinimal, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store.backend, "sqlite");
  EXPECT_TRUE(c->store.url.empty());
}

TEST_F(StoreConfigTest, PostgresqlIsRead) {
  auto c = ParseConfig(
      WithStore("backend = \"postgresql\"\n"
                "url = \"postgresql://mimi@db.example:5432/mimi\"\n"
                "password_file = \"" + secret_ + "\"\nmax_connections = 4\n"),
      {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store.backend, "postgresql");
  EXPECT_EQ(c->store.url, "postgresql://mimi@db.example:5432/mimi");
  EXPECT_EQ(c->store.password_file, secret_);
  EXPECT_EQ(c->store.max_connections, 4);
}

// The embedded DS keeps its tables in the store's database, PostgreSQL
// included (docs/operations.md, "Choosing a store backend").
TEST_F(StoreConfigTest, PostgresqlServesTheEmbeddedDsToo) {
  auto c = ParseConfig(
      WithStore("backend = \"postgresql\"\n"
                "url = \"postgresql://mimi@db.example:5432/mimi\"\n",
                /*http_ds=*/false),
      {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store.backend, "postgresql");
  EXPECT_EQ(c->ds.mode, "embedded");
}

TEST_F(StoreConfigTest, ErrorsNameTheSettingAndNeverEchoAPassword) {
  const std::string pg = "backend = \"postgresql\"\n";
  const std::string url = "url = \"postgresql://mimi@db.example/mimi\"\n";
  struct Case {
    std::string text;
    std::string expected_detail_start;
  };
  std::vector<Case> cases = {
      {WithStore("backend = \"mysql\"\n"), "config: store.backend: must be"},
      {WithStore(pg), "config: store.url: is required"},
      {WithStore(pg + "url = \"postgresql://mimi:hunter2@db.example/mimi\"\n"),
       "config: store.url: store url carries a password"},
      {WithStore(pg + "url = \"mysql://db.example/mimi\"\n"),
       "config: store.url: store url must start with postgresql://"},
      {WithStore(pg + url + "password_file = \"/nonexistent/pw\"\n"),
       "config: store.password_file: no such file"},
      {WithStore(pg + url + "max_connections = 0\n"),
       "config: store.max_connections:"},
      {WithStore(url, false), "config: store.url: is for store.backend"},
      {WithStore(pg + url + "password = \"x\"\n"),
       "config: unknown setting 'store.password'"},
  };
  for (const Case& c : cases) {
    Status s = ParseError(c.text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(s.detail().rfind(c.expected_detail_start, 0), 0u)
        << "got: " << s.detail() << "\nfor:\n" << c.text;
    EXPECT_EQ(s.detail().find("hunter2"), std::string::npos) << s.detail();
  }
}

TEST_F(StoreConfigTest, PasswordFileMustBeTheOwnersOnly) {
  const std::string password = (dir_ / "pg.password").string();
  std::ofstream(password) << "pw\n";
  std::filesystem::permissions(password, std::filesystem::perms::owner_read |
                                             std::filesystem::perms::others_read);
  Status s = ParseError(
      WithStore("backend = \"postgresql\"\n"
                "url = \"postgresql://mimi@db.example/mimi\"\n"
                "password_file = \"" + password + "\"\n"));
  EXPECT_EQ(s.detail().rfind(
                "config: store.password_file: must be readable by its owner only", 0),
            0u)
      << s.detail();
}

TEST(HostPortTest, Forms) {
  EXPECT_EQ(*ParseHostPort("a.test", 443), (HostPort{"a.test", 443}));
  EXPECT_EQ(*ParseHostPort("a.test:80", 443), (HostPort{"a.test", 80}));
  EXPECT_EQ(*ParseHostPort("[::1]:8443", 443), (HostPort{"::1", 8443}));
  EXPECT_FALSE(ParseHostPort(":80", 443).ok());
  EXPECT_FALSE(ParseHostPort("a:b", 443).ok());
  EXPECT_FALSE(ParseHostPort("[::1", 443).ok());
}

}  // namespace
}  // namespace mimi::daemon
