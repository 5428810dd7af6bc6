// RFC 9420 Proposal (§12.1) and ProposalOrRef, read structurally so that a
// commit can be walked to its end (trailing bytes are only detectable if
// every inner struct is parsed). Only the parts a Delivery Service uses are
// kept as fields; the rest is validated and dropped.
//
// Proposal types outside RFC 9420's seven cannot be skipped (a Proposal has
// no length prefix) and are refused as unsupported. Pure; thread-safe.
#ifndef MIMI_MLS_PROPOSAL_H_
#define MIMI_MLS_PROPOSAL_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "codec/reader.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/key_package.h"
#include "mls/leaf_node.h"

namespace mimi::mls {

enum class ProposalType : uint16_t {
  kAdd = 1,
  kUpdate = 2,
  kRemove = 3,
  kPsk = 4,
  kReinit = 5,
  kExternalInit = 6,
  kGroupContextExtensions = 7,
};
std::string_view ProposalTypeName(ProposalType type);

struct Proposal {
  ProposalType type = ProposalType::kAdd;
  std::optional<KeyPackage> add;  // kAdd
  std::optional<LeafNode> update;  // kUpdate
  uint32_t removed = 0;  // kRemove: the leaf index removed
};

// A proposal inline, or a reference (hash) to one sent before.
struct ProposalOrRef {
  std::optional<Proposal> proposal;
  Bytes reference;
};

Status ReadProposal(codec::Reader& r, std::string_view path, Proposal* out);
Status ReadProposalOrRef(codec::Reader& r, std::string_view path, ProposalOrRef* out);

}  // namespace mimi::mls

#endif  // MIMI_MLS_PROPOSAL_H_
