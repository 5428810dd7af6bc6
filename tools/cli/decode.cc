// mimi-portctl decode TYPE INPUT.
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "codec/json.h"
#include "mimi_portability/bytes.h"

namespace mimi::cli {
namespace {

// INPUT is hex, @file (raw bytes) or - (raw bytes from stdin).
Result<Bytes> ReadInput(const std::string& input) {
  if (input == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)),
                     std::istreambuf_iterator<char>());
    return ToBytes(data);
  }
  if (!input.empty() && input[0] == '@') {
    std::ifstream f(input.substr(1), std::ios::binary);
    if (!f) return NotFoundError("cannot open " + input.substr(1));
    std::string data((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
    return ToBytes(data);
  }
  return FromHex(input);
}

}  // namespace

void RegisterDecode(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "decode", "Decode a captured wire message and print it as JSON");
  auto type = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  std::string types;
  for (const auto& name : codec::DecodableTypes()) types += " " + name;
  cmd->add_option("TYPE", *type, "Message type:" + types)->required();
  cmd->add_option("INPUT", *input, "hex, @file or - for stdin")->required();
  cmd->callback([type, input] {
    auto bytes = ReadInput(*input);
    if (!bytes.ok()) {
      std::cerr << "error: " << bytes.status().ToString() << "\n";
      SetExitCode(bytes.status().code() == StatusCode::kNotFound ? kExitNotFound
                                                                 : kExitBadInput);
      return;
    }
    auto json = codec::DecodeToJson(*type, *bytes);
    if (!json.ok()) {
      std::cerr << "error: " << json.status().ToString() << "\n";
      SetExitCode(kExitBadInput);
      return;
    }
    std::cout << json->dump(2) << "\n";
  });
}

}  // namespace mimi::cli
