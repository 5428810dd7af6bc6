// Where the ts-mls client lives, and the fixtures it made in tests/data/mls
// (or in $MIMI_MLS_FIXTURES, where the live ctest entry writes freshly
// generated ones), read as text or hex.
// Header-only test support; a missing or bad file fails the calling test.
#ifndef MIMI_TESTING_MLS_FIXTURES_H_
#define MIMI_TESTING_MLS_FIXTURES_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "mimi_portability/bytes.h"

namespace mimi::testing {

// tests/mls: the pinned ts-mls client and its scripts.
inline std::filesystem::path TsMlsDir() {
  return std::filesystem::path(MIMI_SOURCE_DIR) / "tests/mls";
}

inline std::string MlsFixtureDir() {
  const char* env = std::getenv("MIMI_MLS_FIXTURES");
  return env != nullptr && *env != '\0' ? env : MIMI_TEST_DATA_DIR "/mls";
}

inline std::string ReadMlsFixtureText(const std::string& name) {
  std::ifstream f(MlsFixtureDir() + "/" + name);
  EXPECT_TRUE(f) << "missing fixture " << MlsFixtureDir() << "/" << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline Bytes ReadMlsHexFixture(const std::string& name) {
  auto bytes = FromHex(ReadMlsFixtureText(name));
  EXPECT_TRUE(bytes.ok()) << name << ": " << bytes.status().ToString();
  return bytes.ok() ? *bytes : Bytes{};
}

}  // namespace mimi::testing

#endif  // MIMI_TESTING_MLS_FIXTURES_H_
