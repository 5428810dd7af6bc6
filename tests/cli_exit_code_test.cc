// mimi-portctl's one Status -> exit code mapping (tools/cli/exit_code.cc)
// is the table in docs/operations.md: every StatusCode but ok is in exactly
// one row, and ExitCodeFor gives that row's exit code. Before, `decode` and
// `keys` each had their own mapping and exited 70 where the operator
// commands exited 4 (kUnavailable); the table is read from the doc, so the
// two cannot drift apart again.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "cli/exit_code.h"

namespace mimi::cli {
namespace {

constexpr StatusCode kAllCodes[] = {
    StatusCode::kMalformed,          StatusCode::kInvalidArgument,
    StatusCode::kNotFound,           StatusCode::kAlreadyExists,
    StatusCode::kFailedPrecondition, StatusCode::kPermissionDenied,
    StatusCode::kUnsupported,        StatusCode::kBadSignature,
    StatusCode::kUnavailable,        StatusCode::kInternal,
};

// Status code name -> exit code, from the rows "| N | meaning | `a`, `b` |"
// of the exit-code table (the one whose header has "Status codes").
std::map<std::string, int> DocumentedTable(std::string* error) {
  std::ifstream f(std::string(MIMI_SOURCE_DIR "/docs/operations.md"));
  std::stringstream all;
  all << f.rdbuf();
  std::istringstream in(all.str());
  std::map<std::string, int> out;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| code | meaning | Status codes |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    if (line.rfind("| ---", 0) == 0) continue;
    const int code = std::stoi(line.substr(1));
    const std::string codes = line.substr(line.rfind('|', line.size() - 2));
    size_t at = 0;
    while ((at = codes.find('`', at)) != std::string::npos) {
      const size_t end = codes.find('`', at + 1);
      const std::string name = codes.substr(at + 1, end - at - 1);
      if (!out.emplace(name, code).second) *error = name + " is in two rows";
      at = end + 1;
    }
  }
  if (out.empty()) *error = "no exit-code table with a 'Status codes' column";
  return out;
}

TEST(CliExitCodeTest, ExitCodeForIsTheDocumentedTable) {
  std::string error;
  const std::map<std::string, int> table = DocumentedTable(&error);
  ASSERT_TRUE(error.empty()) << error;
  for (StatusCode code : kAllCodes) {
    const std::string name(StatusCodeName(code));
    auto it = table.find(name);
    ASSERT_NE(it, table.end()) << name << " is not in docs/operations.md's table";
    EXPECT_EQ(ExitCodeFor(Status(code, "x")), it->second) << name;
  }
  EXPECT_EQ(table.size(), std::size(kAllCodes)) << "a row names an unknown code";
}

TEST(CliExitCodeTest, TheCodesEveryCommandShares) {
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kUnavailable, "down")), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kNotFound, "none")), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kMalformed, "bad")), kExitBadInput);
  EXPECT_EQ(ExitCodeFor(Status(StatusCode::kInternal, "bug")), kExitInternal);
  EXPECT_EQ(kExitUnreachable, 4);
  EXPECT_EQ(kExitInternal, 70);
}

}  // namespace
}  // namespace mimi::cli
