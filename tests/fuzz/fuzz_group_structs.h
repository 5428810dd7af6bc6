// Fuzz checks for the parsers a DS runs on member- and peer-supplied group
// data: the RFC 9420 ratchet tree, GroupInfo (MLSMessage-wrapped), and the
// portable GroupState of MigrationContent. Same shape as fuzz::CheckMessage:
// "" or a violation, and whether the input was accepted.
//
// A rejection must be a value with a field-naming detail; GroupState, which
// this project encodes, must re-encode accepted input to the same bytes.
// Pure; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_GROUP_STRUCTS_H_
#define MIMI_TESTS_FUZZ_FUZZ_GROUP_STRUCTS_H_

#include <algorithm>
#include <string>

#include "mimi_portability/bytes.h"
#include "mimi_portability/group_state.h"
#include "mls/group_info.h"
#include "mls/ratchet_tree.h"

namespace mimi {
namespace fuzz_group {

inline std::string CheckRejection(const Status& s, std::string_view prefix) {
  if (s.code() != StatusCode::kMalformed && s.code() != StatusCode::kUnsupported &&
      s.code() != StatusCode::kInvalidArgument) {
    return std::string(prefix) + ": rejected with an unexpected code: " + s.ToString();
  }
  if (!s.detail().starts_with(prefix)) {
    return std::string(prefix) + ": error detail does not name the field: " + s.detail();
  }
  return "";
}

}  // namespace fuzz_group

inline std::string CheckRatchetTree(ByteSpan input, bool* accepted) {
  auto tree = mls::DecodeRatchetTree(input);
  if (accepted != nullptr) *accepted = tree.ok();
  if (!tree.ok()) return fuzz_group::CheckRejection(tree.status(), "ratchet_tree");
  // An accepted tree ends on a member and every leaf answers consistently.
  if (tree->leaf_count() == 0 || tree->Leaf(tree->leaf_count() - 1) == nullptr) {
    return "ratchet_tree: accepted a tree that does not end on a member";
  }
  return "";
}

inline std::string CheckGroupInfo(ByteSpan input, bool* accepted) {
  auto info = mls::DecodeGroupInfoMessage(input);
  if (accepted != nullptr) *accepted = info.ok();
  if (!info.ok()) return fuzz_group::CheckRejection(info.status(), "MLSMessage");
  return "";
}

inline std::string CheckGroupState(ByteSpan input, bool* accepted) {
  auto state = DecodeGroupState(input);
  if (accepted != nullptr) *accepted = state.ok();
  if (!state.ok()) return fuzz_group::CheckRejection(state.status(), "GroupState");
  auto again = Encode(*state);
  if (!again.ok()) return "GroupState: accepted input does not encode: " + again.status().ToString();
  if (!std::equal(again->begin(), again->end(), input.begin(), input.end())) {
    return "GroupState: re-encoding differs from the input";
  }
  return "";
}

}  // namespace mimi

#endif  // MIMI_TESTS_FUZZ_FUZZ_GROUP_STRUCTS_H_
