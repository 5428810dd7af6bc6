// JSON views of wire messages, for operators (mimi-portctl decode, logs and
// the admin API). Byte strings print as lowercase hex; domain names print as
// strings when they are printable ASCII and as {"hex": ...} otherwise, so that
// a hostile name cannot forge terminal output.
//
// Pure functions; thread-safe.
#ifndef MIMI_CODEC_JSON_H_
#define MIMI_CODEC_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/messages.h"
#include "mimi_portability/status.h"

namespace mimi::codec {

nlohmann::json ToJson(const MigrationRequest& m);
nlohmann::json ToJson(const MigrationResponse& m);
nlohmann::json ToJson(const MigrationInit& m);
nlohmann::json ToJson(const MigrationCommitAAD& m);
nlohmann::json ToJson(const MigrationContent& m);
nlohmann::json ToJson(const TargetMigrationComplete& m);
nlohmann::json ToJson(const MigrationConfirmation& m);
nlohmann::json ToJson(const MigrationInitRequest& m);
nlohmann::json ToJson(const MigrationAbort& m);
nlohmann::json ToJson(const MigrationAbortAck& m);

// A domain name: a string if printable ASCII, else {"hex": "..."}.
nlohmann::json DomainToJson(ByteSpan name);

// The type names DecodeToJson accepts, in protocol order.
std::vector<std::string> DecodableTypes();

// Decodes `bytes` as the named type; unknown type is kInvalidArgument.
Result<nlohmann::json> DecodeToJson(const std::string& type, ByteSpan bytes);

}  // namespace mimi::codec

#endif  // MIMI_CODEC_JSON_H_
