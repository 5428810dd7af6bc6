#include "codec/json.h"

#include <functional>
#include <utility>

namespace mimi::codec {

using nlohmann::json;

json DomainToJson(ByteSpan name) {
  for (uint8_t c : name) {
    if (c < 0x20 || c > 0x7e) return json{{"hex", ToHex(name)}};
  }
  return ToString(name);
}

json ToJson(const MigrationRequest& m) {
  return json{{"source_domain_name", DomainToJson(m.source_domain_name)},
              {"target_domain_name", DomainToJson(m.target_domain_name)},
              {"group_id", ToHex(m.group_id)},
              {"epoch", m.epoch}};
}

json ToJson(const MigrationResponse& m) {
  return json{{"migration_request", ToJson(m.migration_request)},
              {"nonce", ToHex(m.nonce)},
              {"signature", ToHex(m.signature)}};
}

json ToJson(const MigrationInit& m) {
  return json{{"migration_response", ToJson(m.migration_response)},
              {"signature", ToHex(m.signature)}};
}

json ToJson(const MigrationCommitAAD& m) {
  return json{{"target_ds_domain", DomainToJson(m.target_ds_domain)}};
}

json ToJson(const MigrationContent& m) {
  return json{{"migration_response", ToJson(m.migration_response)},
              {"group_state", ToHex(m.group_state)},
              {"signature", ToHex(m.signature)}};
}

json ToJson(const TargetMigrationComplete& m) {
  return json{{"migration_content_hash", ToHex(m.migration_content_hash)},
              {"signature", ToHex(m.signature)}};
}

json ToJson(const MigrationConfirmation& m) {
  return json{{"domain_name", DomainToJson(m.domain_name)},
              {"nonce", ToHex(m.nonce)},
              {"group_id", ToHex(m.group_id)},
              {"signature", ToHex(m.signature)}};
}

json ToJson(const MigrationInitRequest& m) {
  return json{{"migration_init", ToJson(m.migration_init)},
              {"sender_leaf_index", m.sender_leaf_index},
              {"commit", ToHex(m.commit)}};
}

json ToJson(const MigrationAbort& m) {
  return json{{"nonce", ToHex(m.nonce)}, {"signature", ToHex(m.signature)}};
}

json ToJson(const MigrationAbortAck& m) {
  return json{{"nonce", ToHex(m.nonce)}, {"signature", ToHex(m.signature)}};
}

namespace {

using Decoder = std::function<Result<json>(ByteSpan)>;

template <typename T>
std::pair<std::string, Decoder> Entry() {
  return {std::string(MessageName<T>()), [](ByteSpan b) -> Result<json> {
            auto m = Decode<T>(b);
            if (!m.ok()) return m.status();
            return ToJson(*m);
          }};
}

const std::vector<std::pair<std::string, Decoder>>& Decoders() {
  static const auto* kDecoders =
      new std::vector<std::pair<std::string, Decoder>>{
          Entry<MigrationRequest>(),      Entry<MigrationResponse>(),
          Entry<MigrationInit>(),         Entry<MigrationCommitAAD>(),
          Entry<MigrationContent>(),      Entry<TargetMigrationComplete>(),
          Entry<MigrationConfirmation>(), Entry<MigrationInitRequest>(),
          Entry<MigrationAbort>(),        Entry<MigrationAbortAck>(),
      };
  return *kDecoders;
}

}  // namespace

std::vector<std::string> DecodableTypes() {
  std::vector<std::string> names;
  for (const auto& [name, _] : Decoders()) names.push_back(name);
  return names;
}

Result<json> DecodeToJson(const std::string& type, ByteSpan bytes) {
  for (const auto& [name, decode] : Decoders()) {
    if (name == type) return decode(bytes);
  }
  return InvalidArgumentError("unknown message type '" + type + "'");
}

}  // namespace mimi::codec
