// JSON views of MLS framing for operators (`mimi-portctl decode MLSMessage`).
// Byte strings print as lowercase hex; a commit whose authenticated_data is a
// MigrationCommitAAD also shows that decoded, since that is what an operator
// checking a migration looks for. Kept out of codec/json.h so that the codec
// module does not depend on this one.
//
// Pure functions; thread-safe.
#ifndef MIMI_MLS_MLS_JSON_H_
#define MIMI_MLS_MLS_JSON_H_

#include <nlohmann/json.hpp>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/leaf_node.h"
#include "mls/mls_message.h"
#include "mls/ratchet_tree.h"

namespace mimi::mls {

nlohmann::json ToJson(const LeafNode& leaf);
nlohmann::json ToJson(const MlsMessage& msg);
nlohmann::json ToJson(const RatchetTree& tree);

// The type name mimi-portctl decode takes for DecodeMlsMessageToJson.
inline constexpr std::string_view kMlsMessageTypeName = "MLSMessage";

Result<nlohmann::json> DecodeMlsMessageToJson(ByteSpan bytes);

}  // namespace mimi::mls

#endif  // MIMI_MLS_MLS_JSON_H_
