#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/config_check.h"
#include "keys/ds_key_store.h"
#include "mimi_portability/clock.h"
#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi::daemon {
namespace {

namespace fs = std::filesystem;
using ::mimi::testing::TempDir;
using ::mimi::testing::TestCa;

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The detail of every problem, in order.
std::vector<std::string> Details(const std::vector<Status>& problems) {
  std::vector<std::string> out;
  for (const Status& s : problems) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    out.push_back(s.detail());
  }
  return out;
}

bool AnyContains(const std::vector<std::string>& lines,
                 const std::string& part) {
  for (const std::string& l : lines) {
    if (l.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(ConfigFileProblemsTest, NamesEveryWrongSettingNotJustTheFirst) {
  TempDir dir;
  const fs::path file = dir.path() / "bad.toml";
  WriteText(file, R"(domain = "Bad_Domain"
data_dir = ""
log_level = "loud"
log_format = "xml"
server_threads = 1
[tls]
insecure_plain_http = true
[recovery]
lease_ms = 5
)");
  Config config;
  auto problems = Details(ConfigFileProblems(file.string(), {}, &config));
  EXPECT_EQ(problems.size(), 6u);
  for (const char* setting :
       {"config: domain:", "config: data_dir:", "config: log_level:",
        "config: log_format:", "config: server_threads:",
        "config: recovery.lease_ms:"}) {
    EXPECT_TRUE(AnyContains(problems, setting)) << setting;
  }
  // Loading still stops at the first, with the same words.
  auto loaded = LoadConfigFile(file.string(), {});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().detail(), problems.front());
}

TEST(ConfigFileProblemsTest, ASyntaxErrorIsTheOnlyProblemReported) {
  TempDir dir;
  const fs::path file = dir.path() / "broken.toml";
  WriteText(file, "domain = \n");
  Config config;
  auto problems = Details(ConfigFileProblems(file.string(), {}, &config));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(AnyContains(problems, "broken.toml:1:")) << problems[0];
  auto missing = Details(
      ConfigFileProblems((dir.path() / "none.toml").string(), {}, &config));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_TRUE(AnyContains(missing, "cannot read")) << missing[0];
}

class CheckConfigFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = TestCa::Create(dir_.path());
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    auto leaf = ca->IssueLeaf("x", {"x.test"});
    auto other = ca->IssueLeaf("y", {"y.test"});
    ASSERT_TRUE(leaf.ok() && other.ok());
    ca_ = ca->ca_cert_path();
    cert_ = leaf->cert_path;
    key_ = leaf->key_path;
    other_key_ = other->key_path;
    config_.domain = "x.test";
    config_.data_dir = (dir_.path() / "data").string();
    config_.tls.cert_file = cert_.string();
    config_.tls.key_file = key_.string();
    config_.tls.ca_file = ca_.string();
  }

  std::vector<std::string> Check() {
    return Details(CheckConfigFiles(config_, SystemClock::Get()));
  }

  TempDir dir_;
  Config config_;
  fs::path ca_, cert_, key_, other_key_;
};

TEST_F(CheckConfigFilesTest, AGoodConfigHasNoProblemAndCreatesNothing) {
  EXPECT_TRUE(Check().empty());
  // The daemon would create data_dir; the check must not.
  EXPECT_FALSE(fs::exists(config_.data_dir));
}

TEST_F(CheckConfigFilesTest, EveryBadFileIsNamed) {
  config_.tls.key_file = other_key_.string();  // another certificate's key
  const fs::path garbage = dir_.path() / "garbage.pem";
  WriteText(garbage,
            "-----BEGIN CERTIFICATE-----\nnot base64\n"
            "-----END CERTIFICATE-----\n");
  config_.tls.ca_file = garbage.string();
  auto problems = Check();
  ASSERT_EQ(problems.size(), 2u) << ::testing::PrintToString(problems);
  EXPECT_TRUE(AnyContains(problems, "config: tls.key:"));
  EXPECT_TRUE(AnyContains(problems, "is not the key of the certificate"));
  EXPECT_TRUE(AnyContains(problems, "config: tls.ca:"));
}

TEST_F(CheckConfigFilesTest, AnExpiredCertificateIsAProblem) {
  // A throw-away pair that expired on 2020-01-02 (tests/data/tls).
  config_.tls.cert_file = MIMI_TEST_DATA_DIR "/tls/expired_cert.pem";
  config_.tls.key_file = MIMI_TEST_DATA_DIR "/tls/expired_key.pem";
  auto problems = Check();
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_TRUE(AnyContains(problems, "config: tls.cert:"));
  EXPECT_TRUE(AnyContains(problems, "expired.test) has expired"));
}

TEST_F(CheckConfigFilesTest, ADataDirThatIsAFileOrANonDatabaseIsAProblem) {
  WriteText(config_.data_dir, "a file");
  auto as_file = Check();
  ASSERT_EQ(as_file.size(), 1u);
  EXPECT_TRUE(AnyContains(as_file, "is not a directory"));

  fs::remove(config_.data_dir);
  fs::create_directories(config_.data_dir);
  WriteText(fs::path(config_.data_dir) / "mimi.db", "not a database");
  auto not_db = Check();
  ASSERT_EQ(not_db.size(), 1u) << ::testing::PrintToString(not_db);
  EXPECT_TRUE(AnyContains(not_db, "mimi.db"));
}

TEST_F(CheckConfigFilesTest, AKeyStoreWithAnOpenKeyFileIsAProblem) {
  const fs::path keys = fs::path(config_.data_dir) / "keys";
  {
    auto store = keys::DsKeyStore::Open(keys, {1}, SystemClock::Get());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_TRUE(Check().empty());
  for (const auto& entry : fs::directory_iterator(keys)) {
    if (entry.path().extension() == ".pem" ||
        entry.path().extension() == ".key") {
      ::chmod(entry.path().c_str(), 0644);
    }
  }
  auto problems = Check();
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_TRUE(AnyContains(problems, "config: data_dir:"));
}

TEST_F(CheckConfigFilesTest, AnHttpDsSecretIsReadAsTheDaemonReadsIt) {
  config_.ds.mode = "http";
  config_.ds.base_url = "https://ds.test";
  const fs::path secret = dir_.path() / "secret";
  WriteText(secret, "too short");
  ::chmod(secret.c_str(), 0600);
  config_.ds.secret_file = secret.string();
  auto problems = Check();
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_TRUE(AnyContains(problems, "config: ds.secret_file:"));
}

}  // namespace
}  // namespace mimi::daemon
