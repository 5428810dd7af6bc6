// mimi-portctl decode, run as the built binary: every message type decodes to
// JSON, the three input forms work, and bad input or an unknown type exit 2
// with the error code and the failing field on stderr.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "codec/json_text.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/messages.h"
#include "testing/read_file.h"
#include "testing/temp_dir.h"
#include "testing/test_bytes.h"

namespace mimi {
namespace {

using ::mimi::testing::Seq;

namespace fs = std::filesystem;
using nlohmann::json;

const char kPortctl[] = MIMI_BINARY_DIR "/tools/mimi-portctl";

using ::mimi::testing::ReadTextFile;
using ::mimi::testing::TempDir;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs mimi-portctl with `args`, feeding `stdin_bytes` on its stdin, and
// waits for it.
RunResult Portctl(const std::vector<std::string>& args,
                  const Bytes& stdin_bytes = {}) {
  TempDir tmp;
  const fs::path in = tmp.path() / "in";
  const fs::path out = tmp.path() / "out";
  const fs::path err = tmp.path() / "err";
  std::ofstream(in, std::ios::binary)
      .write(reinterpret_cast<const char*>(stdin_bytes.data()),
             static_cast<std::streamsize>(stdin_bytes.size()));

  std::vector<std::string> argv_storage = {kPortctl};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    const int in_fd = open(in.c_str(), O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(120);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv.data());
    _exit(121);
  }
  RunResult run;
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  }
  run.out = ReadTextFile(out);
  run.err = ReadTextFile(err);
  return run;
}

json ParseOut(const RunResult& run) {
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  return mimi::codec::ParseJson(run.out);
}

Nonce NonceOf(uint8_t first) {
  Nonce n;
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(first + i);
  return n;
}

MigrationRequest Request() {
  return {ToBytes("source.test"), ToBytes("target.test"), Seq(0x10, 16),
          123456};
}
MigrationResponse Response() {
  return {Request(), NonceOf(0x20), Seq(0xc0, 64)};
}
MigrationInit Init() { return {Response(), Seq(0x40, 64)}; }

std::string HexOf(const auto& message) {
  return ToHex(Encode(message).value());
}

void ExpectRequestJson(const json& j) {
  EXPECT_EQ(j["source_domain_name"], "source.test");
  EXPECT_EQ(j["target_domain_name"], "target.test");
  EXPECT_EQ(j["group_id"], "101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(j["epoch"], 123456);
}

void ExpectResponseJson(const json& j) {
  ExpectRequestJson(j["migration_request"]);
  EXPECT_EQ(j["nonce"], ToHex(NonceOf(0x20)));
  EXPECT_EQ(j["signature"], ToHex(Seq(0xc0, 64)));
}

TEST(CliDecodeTest, MigrationRequest) {
  json j = ParseOut(Portctl({"decode", "MigrationRequest", HexOf(Request())}));
  ExpectRequestJson(j);
  EXPECT_EQ(j.size(), 4u);
}

TEST(CliDecodeTest, MigrationResponse) {
  ExpectResponseJson(
      ParseOut(Portctl({"decode", "MigrationResponse", HexOf(Response())})));
}

TEST(CliDecodeTest, MigrationInit) {
  json j = ParseOut(Portctl({"decode", "MigrationInit", HexOf(Init())}));
  ExpectResponseJson(j["migration_response"]);
  EXPECT_EQ(j["signature"], ToHex(Seq(0x40, 64)));
}

TEST(CliDecodeTest, MigrationCommitAAD) {
  json j =
      ParseOut(Portctl({"decode", "MigrationCommitAAD",
                        HexOf(MigrationCommitAAD{ToBytes("target.test")})}));
  EXPECT_EQ(j, json({{"target_ds_domain", "target.test"}}));
}

TEST(CliDecodeTest, MigrationContent) {
  MigrationContent m{Response(), Seq(0, 100), Seq(0x80, 64)};
  json j = ParseOut(Portctl({"decode", "MigrationContent", HexOf(m)}));
  ExpectResponseJson(j["migration_response"]);
  EXPECT_EQ(j["group_state"], ToHex(Seq(0, 100)));
  EXPECT_EQ(j["signature"], ToHex(Seq(0x80, 64)));
}

TEST(CliDecodeTest, TargetMigrationComplete) {
  TargetMigrationComplete m{Seq(0xa0, 32), Seq(0xc0, 64)};
  json j = ParseOut(Portctl({"decode", "TargetMigrationComplete", HexOf(m)}));
  EXPECT_EQ(j["migration_content_hash"], ToHex(Seq(0xa0, 32)));
  EXPECT_EQ(j["signature"], ToHex(Seq(0xc0, 64)));
}

TEST(CliDecodeTest, MigrationConfirmation) {
  MigrationConfirmation m{ToBytes("target.test"), NonceOf(0x20), Seq(0x10, 16),
                          Seq(0x80, 64)};
  json j = ParseOut(Portctl({"decode", "MigrationConfirmation", HexOf(m)}));
  EXPECT_EQ(j["domain_name"], "target.test");
  EXPECT_EQ(j["nonce"], ToHex(NonceOf(0x20)));
  EXPECT_EQ(j["group_id"], "101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(j["signature"], ToHex(Seq(0x80, 64)));
}

TEST(CliDecodeTest, MigrationInitRequest) {
  MigrationInitRequest m{Init(), 3, Seq(0x00, 40)};
  json j = ParseOut(Portctl({"decode", "MigrationInitRequest", HexOf(m)}));
  ExpectResponseJson(j["migration_init"]["migration_response"]);
  EXPECT_EQ(j["sender_leaf_index"], 3);
  EXPECT_EQ(j["commit"], ToHex(Seq(0x00, 40)));
}

TEST(CliDecodeTest, MigrationAbortAndAck) {
  json abort =
      ParseOut(Portctl({"decode", "MigrationAbort",
                        HexOf(MigrationAbort{NonceOf(1), Seq(9, 64)})}));
  EXPECT_EQ(abort["nonce"], ToHex(NonceOf(1)));
  EXPECT_EQ(abort["signature"], ToHex(Seq(9, 64)));
  json ack =
      ParseOut(Portctl({"decode", "MigrationAbortAck",
                        HexOf(MigrationAbortAck{NonceOf(2), Seq(7, 64)})}));
  EXPECT_EQ(ack["nonce"], ToHex(NonceOf(2)));
  EXPECT_EQ(ack["signature"], ToHex(Seq(7, 64)));
}

TEST(CliDecodeTest, HexMayHaveUpperCaseAndWhiteSpace) {
  std::string hex = HexOf(Request());
  for (char& c : hex) c = static_cast<char>(std::toupper(c));
  hex.insert(22, "\n  ");
  hex.insert(6, " ");
  ExpectRequestJson(ParseOut(Portctl({"decode", "MigrationRequest", hex})));
}

TEST(CliDecodeTest, ReadsRawBytesFromFile) {
  TempDir tmp;
  const fs::path file = tmp.path() / "content.bin";
  // Large enough for the 4-byte varint form of group_state.
  MigrationContent m{Response(), Bytes(20000, 0x5a), Seq(0x80, 64)};
  const Bytes bytes = Encode(m).value();
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  json j =
      ParseOut(Portctl({"decode", "MigrationContent", "@" + file.string()}));
  EXPECT_EQ(j["group_state"], ToHex(Bytes(20000, 0x5a)));
  ExpectResponseJson(j["migration_response"]);
}

TEST(CliDecodeTest, ReadsRawBytesFromStdin) {
  ExpectResponseJson(ParseOut(Portctl({"decode", "MigrationResponse", "-"},
                                      Encode(Response()).value())));
}

// A domain that is no host name is refused as it is decoded; the error
// names the field and shows the bytes escaped, never raw on the terminal.
TEST(CliDecodeTest, HostileDomainIsRefusedWithoutRawBytes) {
  MigrationCommitAAD m{ToBytes("x\x1b[2J")};
  RunResult run = Portctl({"decode", "MigrationCommitAAD", HexOf(m)});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("MigrationCommitAAD.target_ds_domain"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("x\\x1b[2J"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find('\x1b'), std::string::npos);
}

TEST(CliDecodeTest, TruncatedMessageExitsTwoNamingTheField) {
  std::string hex = HexOf(Response());
  hex.resize(2 * 60);  // 11 bytes into the nonce
  RunResult run = Portctl({"decode", "MigrationResponse", hex});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "error: malformed: MigrationResponse.nonce: truncated\n");
}

TEST(CliDecodeTest, TrailingBytesFromStdinExitTwo) {
  Bytes b = Encode(Init()).value();
  b.push_back(0);
  RunResult run = Portctl({"decode", "MigrationInit", "-"}, b);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "error: malformed: MigrationInit: 1 trailing bytes\n");
}

TEST(CliDecodeTest, NestedFieldErrorFromFile) {
  TempDir tmp;
  const fs::path file = tmp.path() / "init.bin";
  Bytes b = Encode(Init()).value();
  b.resize(44);  // 3 bytes into the epoch
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()),
             static_cast<std::streamsize>(b.size()));
  RunResult run = Portctl({"decode", "MigrationInit", "@" + file.string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "error: malformed: "
            "MigrationInit.migration_response.migration_request.epoch: "
            "truncated\n");
}

TEST(CliDecodeTest, BadHexExitsTwo) {
  RunResult run = Portctl({"decode", "MigrationRequest", "0g"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "error: malformed: hex: invalid digit at offset 1\n");
  run = Portctl({"decode", "MigrationRequest", "000"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "error: malformed: hex: odd number of digits\n");
}

TEST(CliDecodeTest, EmptyInputIsMalformed) {
  RunResult run = Portctl({"decode", "MigrationAbort", "-"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "error: malformed: MigrationAbort.nonce: truncated\n");
}

TEST(CliDecodeTest, UnknownTypeExitsTwoAndListsTheTypes) {
  RunResult run = Portctl({"decode", "MigrationFoo", HexOf(Request())});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(run.err.starts_with(
      "error: invalid-argument: unknown message type 'MigrationFoo'; known: "
      "MigrationRequest MigrationResponse"))
      << run.err;
  // The type is checked before the input is read.
  run = Portctl({"decode", "MigrationFoo", "@/nonexistent/file"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
}

TEST(CliDecodeTest, MissingFileExitsThree) {
  TempDir tmp;
  RunResult run = Portctl({"decode", "MigrationRequest",
                           "@" + (tmp.path() / "absent.bin").string()});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("not-found: cannot open"), std::string::npos)
      << run.err;
  run = Portctl({"decode", "MigrationRequest", "@" + tmp.path().string()});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("is a directory"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace mimi
