#include "mimi_portability/group_state.h"

#include <algorithm>
#include <string>

#include "codec/reader.h"
#include "codec/writer.h"

namespace mimi {
namespace {

// The seq a version-1 state implies: members continue after the last
// message it carries.
template <typename State>
uint64_t DerivedLastSeq(const State& s) {
  return s.pending_messages.empty() ? 0 : s.pending_messages.back().seq;
}

// What breaks the numbering rules of group_state.h, or empty.
template <typename State>
std::string SeqProblem(const State& s) {
  uint64_t previous = 0;
  for (size_t i = 0; i < s.pending_messages.size(); ++i) {
    const uint64_t seq = s.pending_messages[i].seq;
    if (seq <= previous) {
      return "GroupState.pending_messages[" + std::to_string(i) +
             "].seq: " + std::to_string(seq) + " is not above " +
             (i == 0 ? std::string("0") : std::to_string(previous));
    }
    previous = seq;
  }
  if (s.version >= 2 && previous > s.last_seq) {
    return "GroupState.last_seq: " + std::to_string(s.last_seq) +
           " is below the pending message seq " + std::to_string(previous);
  }
  return {};
}

}  // namespace

Result<Bytes> Encode(const GroupState& s) {
  return EncodeWithTree(
      s, s.ratchet_tree.size(),
      [&s](std::span<uint8_t> out) {
        std::copy(s.ratchet_tree.begin(), s.ratchet_tree.end(), out.begin());
        return Status::Ok();
      },
      0);
}

Result<Bytes> EncodeWithTree(
    const GroupState& s, size_t tree_size,
    const std::function<Status(std::span<uint8_t>)>& fill_tree,
    size_t spare_capacity) {
  if (s.version != 1 && s.version != 2) {
    return UnsupportedError("GroupState.version: " + std::to_string(s.version));
  }
  if (std::string problem = SeqProblem(s); !problem.empty()) {
    return InvalidArgumentError(problem);
  }
  if (s.version == 1 && s.last_seq != DerivedLastSeq(s)) {
    return InvalidArgumentError(
        "GroupState.last_seq: version 1 cannot carry " +
        std::to_string(s.last_seq) + " (its readers take " +
        std::to_string(DerivedLastSeq(s)) + ")");
  }
  // A vector of structs: its varint length counts bytes, so encode the
  // elements first.
  codec::Writer items;
  for (const auto& m : s.pending_messages) {
    items.WriteU64(m.seq);
    items.WriteOpaque("GroupState.pending_messages.message", m.message);
  }
  MIMI_ASSIGN_OR_RETURN(Bytes encoded_items, std::move(items).Finish());
  codec::Writer w;
  w.Reserve(s.group_id.size() + s.group_info.size() + tree_size +
            s.migration_commit.size() + encoded_items.size() + 72 +
            spare_capacity);
  w.WriteU16(s.version);
  w.WriteU16(s.cipher_suite);
  w.WriteOpaque("GroupState.group_id", s.group_id);
  w.WriteU64(s.epoch);
  w.WriteOpaque("GroupState.group_info", s.group_info);
  w.WriteVarint("GroupState.ratchet_tree", tree_size);
  if (tree_size <= codec::kMaxVarint) {
    MIMI_RETURN_IF_ERROR(fill_tree(w.WriteSpace(tree_size)));
  }
  w.WriteOpaque("GroupState.migration_commit", s.migration_commit);
  w.WriteOpaque("GroupState.pending_messages", encoded_items);
  if (s.version >= 2) w.WriteU64(s.last_seq);
  return std::move(w).Finish();
}

Result<GroupStateView> DecodeGroupStateView(ByteSpan bytes) {
  codec::Reader r(bytes);
  GroupStateView s;
  MIMI_RETURN_IF_ERROR(r.ReadU16("GroupState.version", &s.version));
  if (s.version != 1 && s.version != 2) {
    return UnsupportedError("GroupState.version: " + std::to_string(s.version) +
                            " (this DS reads versions 1 and 2)");
  }
  MIMI_RETURN_IF_ERROR(r.ReadU16("GroupState.cipher_suite", &s.cipher_suite));
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView("GroupState.group_id", &s.group_id));
  MIMI_RETURN_IF_ERROR(r.ReadU64("GroupState.epoch", &s.epoch));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaqueView("GroupState.group_info", &s.group_info));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaqueView("GroupState.ratchet_tree", &s.ratchet_tree));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaqueView("GroupState.migration_commit", &s.migration_commit));
  ByteSpan items;
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView("GroupState.pending_messages", &items));
  if (s.version >= 2) {
    MIMI_RETURN_IF_ERROR(r.ReadU64("GroupState.last_seq", &s.last_seq));
  }
  MIMI_RETURN_IF_ERROR(r.ExpectEnd("GroupState"));
  codec::Reader ir(items);
  while (!ir.empty()) {
    StoredMessageView m;
    MIMI_RETURN_IF_ERROR(ir.ReadU64("GroupState.pending_messages.seq", &m.seq));
    MIMI_RETURN_IF_ERROR(
        ir.ReadOpaqueView("GroupState.pending_messages.message", &m.message));
    s.pending_messages.push_back(m);
  }
  // The importer keeps these numbers: out of order or duplicate ones would
  // reorder what members fetch, or collide.
  if (std::string problem = SeqProblem(s); !problem.empty()) {
    return MalformedError(problem);
  }
  if (s.version == 1) s.last_seq = DerivedLastSeq(s);
  return s;
}

Result<GroupState> DecodeGroupState(ByteSpan bytes) {
  MIMI_ASSIGN_OR_RETURN(GroupStateView v, DecodeGroupStateView(bytes));
  GroupState s;
  s.version = v.version;
  s.cipher_suite = v.cipher_suite;
  s.group_id.assign(v.group_id.begin(), v.group_id.end());
  s.epoch = v.epoch;
  s.group_info.assign(v.group_info.begin(), v.group_info.end());
  s.ratchet_tree.assign(v.ratchet_tree.begin(), v.ratchet_tree.end());
  s.migration_commit.assign(v.migration_commit.begin(),
                            v.migration_commit.end());
  s.pending_messages.reserve(v.pending_messages.size());
  for (const StoredMessageView& m : v.pending_messages) {
    s.pending_messages.push_back({m.seq, Bytes(m.message.begin(), m.message.end())});
  }
  s.last_seq = v.last_seq;
  return s;
}

}  // namespace mimi
