#include "log/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "codec/json_text.h"

namespace mimi::log {
namespace {

// Captures what the log writes, with the format and level of the test.
class LogTest : public ::testing::Test {
 protected:
  void Use(Format format, std::string_view level = "info") {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    Configure(level, "ds.test", format);
  }
  void TearDown() override {
    Configure("info", "test", Format::kText);
    if (previous_) spdlog::set_default_logger(previous_);
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(LogTest, JsonLinesAreObjectsNamingTheMigration) {
  Use(Format::kJson);
  Warn(Migration{"00ff"}, "attempt {} failed: \"{}\"", 3, "peer\nsaid no");
  Info("listener on {}", 8443);
  std::istringstream lines(out_.str());
  std::string first, second, third;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  EXPECT_FALSE(std::getline(lines, third)) << "one line per event";

  nlohmann::json a = codec::ParseJson(first);
  ASSERT_TRUE(a.is_object()) << first;
  EXPECT_EQ(a["level"], "warning");
  EXPECT_EQ(a["domain"], "ds.test");
  EXPECT_EQ(a["migration"], "00ff");
  EXPECT_EQ(a["event"], "attempt 3 failed: \"peer\nsaid no\"");
  const std::string time = a["time"];
  EXPECT_EQ(time.size(), std::string("2026-11-30T10:00:00.123Z").size())
      << time;
  EXPECT_EQ(time.back(), 'Z');

  nlohmann::json b = codec::ParseJson(second);
  ASSERT_TRUE(b.is_object()) << second;
  EXPECT_EQ(b["level"], "info");
  EXPECT_FALSE(b.contains("migration"));
  EXPECT_EQ(b["event"], "listener on 8443");
}

TEST_F(LogTest, BytesThatAreNotUtf8StillMakeAnObject) {
  Use(Format::kJson);
  Error("from a peer: {}", std::string("ok \xff\xfe end"));
  nlohmann::json line = codec::ParseJson(out_.str());
  ASSERT_TRUE(line.is_object()) << out_.str();
  EXPECT_EQ(line["event"], "from a peer: ok \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST_F(LogTest, TextLinesNameTheDomainAndTheMigration) {
  Use(Format::kText);
  Info(Migration{"abcd"}, "source {} -> {}", "initiated", "content-sent");
  const std::string line = out_.str();
  EXPECT_NE(line.find(" info [ds.test] migration abcd: source initiated -> "
                      "content-sent\n"),
            std::string::npos)
      << line;
}

TEST_F(LogTest, LinesBelowTheLevelAreNotWritten) {
  Use(Format::kJson, "warn");
  Info(Migration{"abcd"}, "not {}", "shown");
  Debug("nor {}", "this");
  EXPECT_EQ(out_.str(), "");
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
}

}  // namespace
}  // namespace mimi::log
