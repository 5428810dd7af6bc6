// mimi-portctl decode TYPE INPUT: prints a captured wire message as JSON.
//
// TYPE is one of the message struct names; INPUT is hex (white space
// ignored), @file (raw bytes) or - (raw bytes on stdin). A malformed message
// prints "error: malformed: <Struct.field>: <reason>" on stderr and exits 2,
// as does an unknown TYPE; an unreadable @file exits 3.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "codec/json.h"
#include "codec/json_text.h"
#include "mimi_portability/bytes.h"
#include "mls/mls_json.h"

namespace mimi::cli {
namespace {

using Decoder = std::function<Result<nlohmann::json>(ByteSpan)>;

struct DecodableType {
  std::string name;
  Decoder decode;
};

// Every type decode understands: the protocol messages of codec/json.h,
// then decoders from other modules, each one entry appended here.
std::vector<DecodableType> Types() {
  std::vector<DecodableType> types;
  for (const auto& name : codec::DecodableTypes()) {
    types.push_back(
        {name, [name](ByteSpan b) { return codec::DecodeToJson(name, b); }});
  }
  // RFC 9420 framing of a commit or other group message (coordinator/mls).
  types.push_back(
      {std::string(mls::kMlsMessageTypeName), mls::DecodeMlsMessageToJson});
  return types;
}

std::string TypeNames(const std::vector<DecodableType>& types) {
  std::string names;
  for (const auto& t : types) names += " " + t.name;
  return names;
}

Result<Bytes> ReadStream(std::istream& in, const std::string& what) {
  std::string data((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) return UnavailableError("cannot read " + what);
  return ToBytes(data);
}

// INPUT is hex, @file (raw bytes) or - (raw bytes from stdin).
Result<Bytes> ReadInput(const std::string& input) {
  if (input == "-") return ReadStream(std::cin, "stdin");
  if (!input.empty() && input[0] == '@') {
    const std::string path = input.substr(1);
    // A directory opens as an empty stream; say what it is instead.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return NotFoundError("cannot open " + path + ": is a directory");
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) return NotFoundError("cannot open " + path);
    return ReadStream(f, path);
  }
  return FromHex(input);
}

}  // namespace

void RegisterDecode(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "decode", "Decode a captured wire message and print it as JSON");
  auto type = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  cmd->add_option("TYPE", *type, "Message type:" + TypeNames(Types()))
      ->required();
  cmd->add_option("INPUT", *input, "hex, @file or - for stdin")->required();
  cmd->callback([type, input] {
    // The type is checked first, so that a typo is reported as such and not
    // as whatever is wrong with the input.
    const auto types = Types();
    const DecodableType* found = nullptr;
    for (const auto& t : types) {
      if (t.name == *type) found = &t;
    }
    if (found == nullptr) {
      ReportFailure(InvalidArgumentError("unknown message type '" + *type +
                                "'; known:" + TypeNames(types)));
      return;
    }
    auto bytes = ReadInput(*input);
    if (!bytes.ok()) return ReportFailure(bytes.status());
    auto json = found->decode(*bytes);
    if (!json.ok()) return ReportFailure(json.status());
    std::cout << codec::DumpJson(*json, 2) << "\n";
  });
}

}  // namespace mimi::cli
