#include "mls/proposal.h"

#include <string>

#include "mls/vectors.h"

namespace mimi::mls {
namespace {

using codec::FieldPath;
using codec::Reader;

// PreSharedKeyID (§8.4): validated, not kept.
Status ReadPreSharedKeyId(Reader& r, std::string_view path) {
  const std::string type_field = FieldPath(path, "psktype");
  uint8_t type = 0;
  Bytes skip;
  MIMI_RETURN_IF_ERROR(r.ReadU8(type_field, &type));
  if (type == 1) {  // external
    MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "psk_id"), &skip));
  } else if (type == 2) {  // resumption
    uint8_t usage = 0;
    uint64_t epoch = 0;
    MIMI_RETURN_IF_ERROR(r.ReadU8(FieldPath(path, "usage"), &usage));
    if (usage < 1 || usage > 3) {
      return MalformedError(FieldPath(path, "usage") + ": invalid value " +
                            std::to_string(usage));
    }
    MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "psk_group_id"), &skip));
    MIMI_RETURN_IF_ERROR(r.ReadU64(FieldPath(path, "psk_epoch"), &epoch));
  } else {
    return MalformedError(type_field + ": invalid value " + std::to_string(type));
  }
  return r.ReadOpaque(FieldPath(path, "psk_nonce"), &skip);
}

}  // namespace

std::string_view ProposalTypeName(ProposalType type) {
  switch (type) {
    case ProposalType::kAdd:
      return "add";
    case ProposalType::kUpdate:
      return "update";
    case ProposalType::kRemove:
      return "remove";
    case ProposalType::kPsk:
      return "psk";
    case ProposalType::kReinit:
      return "reinit";
    case ProposalType::kExternalInit:
      return "external_init";
    case ProposalType::kGroupContextExtensions:
      return "group_context_extensions";
  }
  return "unknown";
}

Status ReadProposal(Reader& r, std::string_view path, Proposal* out) {
  const std::string type_field = FieldPath(path, "proposal_type");
  uint16_t type = 0;
  Bytes skip;
  std::vector<Extension> extensions;
  MIMI_RETURN_IF_ERROR(r.ReadU16(type_field, &type));
  switch (type) {
    case 1:
      out->type = ProposalType::kAdd;
      out->add.emplace();
      return ReadKeyPackage(r, FieldPath(path, "add.key_package"), &*out->add);
    case 2:
      out->type = ProposalType::kUpdate;
      out->update.emplace();
      return ReadLeafNode(r, FieldPath(path, "update.leaf_node"), &*out->update);
    case 3:
      out->type = ProposalType::kRemove;
      return r.ReadU32(FieldPath(path, "remove.removed"), &out->removed);
    case 4:
      out->type = ProposalType::kPsk;
      return ReadPreSharedKeyId(r, FieldPath(path, "psk.psk"));
    case 5: {
      out->type = ProposalType::kReinit;
      uint16_t u16 = 0;
      MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "reinit.group_id"), &skip));
      MIMI_RETURN_IF_ERROR(r.ReadU16(FieldPath(path, "reinit.version"), &u16));
      MIMI_RETURN_IF_ERROR(r.ReadU16(FieldPath(path, "reinit.cipher_suite"), &u16));
      return ReadExtensions(r, FieldPath(path, "reinit.extensions"), &extensions);
    }
    case 6:
      out->type = ProposalType::kExternalInit;
      return r.ReadOpaque(FieldPath(path, "external_init.kem_output"), &skip);
    case 7:
      out->type = ProposalType::kGroupContextExtensions;
      return ReadExtensions(r, FieldPath(path, "group_context_extensions.extensions"),
                            &extensions);
    default:
      return UnsupportedError(type_field + ": proposal type " + std::to_string(type) +
                              " is not one of RFC 9420's");
  }
}

Status ReadProposalOrRef(Reader& r, std::string_view path, ProposalOrRef* out) {
  const std::string type_field = FieldPath(path, "type");
  uint8_t type = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(type_field, &type));
  if (type == 1) {
    out->proposal.emplace();
    return ReadProposal(r, FieldPath(path, "proposal"), &*out->proposal);
  }
  if (type == 2) return r.ReadOpaque(FieldPath(path, "reference"), &out->reference);
  return MalformedError(type_field + ": invalid value " + std::to_string(type));
}

}  // namespace mimi::mls
