// Every declared failpoint is hit somewhere in the coordinator's code: a
// name that nothing hits would make a crash-matrix entry test nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "failpoint/failpoint.h"

namespace mimi::failpoint {
namespace {

TEST(FailpointNamesTest, EveryNameIsHitInTheSources) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(MIMI_SOURCE_DIR) / "coordinator")) {
    if (entry.path().extension() != ".cc") continue;
    std::ifstream f(entry.path());
    std::stringstream s;
    s << f.rdbuf();
    all += s.str();
  }
  for (const std::string& name : Names()) {
    EXPECT_NE(all.find("Hit(\"" + name + "\")"), std::string::npos)
        << name << " is declared but never hit";
  }
}

}  // namespace
}  // namespace mimi::failpoint
