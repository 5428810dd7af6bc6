// Replays the committed fuzz corpora (tests/data/fuzz/<Type>/) through the
// same round-trip check the libFuzzer targets run (fuzz/fuzz_checks.h), so
// every input the fuzzers found interesting is re-checked by the ordinary
// suite, without clang.
//
// A corpus is registered with one line in Corpora(): its directory name and
// a check function with the shape of fuzz::CheckMessage: it takes the input
// bytes, returns "" or a violation, and says whether the input was accepted.
// A directory under tests/data/fuzz/ without a registration fails the suite,
// so a new corpus cannot be silently skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "fuzz/fuzz_admin_request.h"
#include "fuzz/fuzz_checks.h"
#include "fuzz/fuzz_config.h"
#include "fuzz/fuzz_ds_request_bodies.h"
#include "fuzz/fuzz_group_structs.h"
#include "fuzz/fuzz_key_document.h"
#include "fuzz/fuzz_mls_message.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/messages.h"
#include "testing/read_file.h"

namespace mimi {
namespace {

namespace fs = std::filesystem;

struct Corpus {
  std::string type;  // directory under tests/data/fuzz/
  std::string (*check)(ByteSpan input, bool* accepted);
};

// Test names and failure messages show the type, not the struct's bytes.
void PrintTo(const Corpus& c, std::ostream* os) { *os << c.type; }

const std::vector<Corpus>& Corpora() {
  static const auto* kCorpora = new std::vector<Corpus>{
      {"MigrationRequest", &fuzz::CheckMessage<MigrationRequest>},
      {"MigrationResponse", &fuzz::CheckMessage<MigrationResponse>},
      {"MigrationInit", &fuzz::CheckMessage<MigrationInit>},
      {"MigrationCommitAAD", &fuzz::CheckMessage<MigrationCommitAAD>},
      {"MigrationContent", &fuzz::CheckMessage<MigrationContent>},
      {"TargetMigrationComplete", &fuzz::CheckMessage<TargetMigrationComplete>},
      {"MigrationConfirmation", &fuzz::CheckMessage<MigrationConfirmation>},
      {"MigrationInitRequest", &fuzz::CheckMessage<MigrationInitRequest>},
      {"MigrationAbort", &fuzz::CheckMessage<MigrationAbort>},
      {"MigrationAbortAck", &fuzz::CheckMessage<MigrationAbortAck>},
      // Other decoders plug in here with one line.
      {"MLSMessage", &CheckMlsMessage},
      {"RatchetTree", &CheckRatchetTree},
      {"GroupInfo", &CheckGroupInfo},
      {"GroupState", &CheckGroupState},
      // The text parsers of the daemon's modules.
      {"DsRequestBodies", &CheckDsRequestBodies},
      {"KeyDocument", &CheckKeyDocument},
      {"Config", &CheckConfig},
      {"AdminRequest", &CheckAdminRequest},
  };
  return *kCorpora;
}

const fs::path& CorpusRoot() {
  static const fs::path kRoot = fs::path(MIMI_TEST_DATA_DIR) / "fuzz";
  return kRoot;
}

using ::mimi::testing::ReadBinaryFile;

class FuzzCorpusTest : public ::testing::TestWithParam<Corpus> {};

TEST_P(FuzzCorpusTest, EveryInputKeepsTheRoundTripProperty) {
  const Corpus& c = GetParam();
  const fs::path dir = CorpusRoot() / c.type;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  size_t files = 0;
  size_t violations = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string violation =
        c.check(ReadBinaryFile(entry.path()), nullptr);
    if (!violation.empty()) {
      ++violations;
      ADD_FAILURE() << entry.path().filename() << ": " << violation;
    }
  }
  EXPECT_GT(files, 0u) << "empty corpus " << dir;
  EXPECT_EQ(violations, 0u);
}

// A corpus of only rejected inputs would exercise nothing but the error
// paths; each must hold messages its decoder accepts, and inputs it rejects.
TEST_P(FuzzCorpusTest, HoldsAcceptedAndRejectedInputs) {
  const Corpus& c = GetParam();
  size_t accepted = 0;
  size_t rejected = 0;
  for (const auto& entry : fs::directory_iterator(CorpusRoot() / c.type)) {
    if (!entry.is_regular_file()) continue;
    bool ok = false;
    if (!c.check(ReadBinaryFile(entry.path()), &ok).empty()) continue;
    (ok ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(rejected, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Corpora, FuzzCorpusTest, ::testing::ValuesIn(Corpora()),
    [](const ::testing::TestParamInfo<Corpus>& param_info) {
      return param_info.param.type;
    });

TEST(FuzzCorpusRegistryTest, EveryCorpusDirectoryIsRegistered) {
  std::set<std::string> registered;
  for (const auto& c : Corpora()) registered.insert(c.type);
  for (const auto& entry : fs::directory_iterator(CorpusRoot())) {
    if (!entry.is_directory()) continue;
    EXPECT_TRUE(registered.contains(entry.path().filename().string()))
        << entry.path() << " has no entry in Corpora()";
  }
}

}  // namespace
}  // namespace mimi
