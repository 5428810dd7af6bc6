#include "mimi_portability/group_state.h"

#include "codec/reader.h"
#include "codec/writer.h"

namespace mimi {

Result<Bytes> Encode(const GroupState& s) {
  codec::Writer w;
  size_t pending_size = 0;
  for (const auto& m : s.pending_messages) pending_size += m.message.size() + 13;
  w.Reserve(s.group_info.size() + s.ratchet_tree.size() +
            s.migration_commit.size() + pending_size + 64);
  w.WriteU16(s.version);
  w.WriteU16(s.cipher_suite);
  w.WriteOpaque("GroupState.group_id", s.group_id);
  w.WriteU64(s.epoch);
  w.WriteOpaque("GroupState.group_info", s.group_info);
  w.WriteOpaque("GroupState.ratchet_tree", s.ratchet_tree);
  w.WriteOpaque("GroupState.migration_commit", s.migration_commit);
  // A vector of structs: its varint length counts bytes, so encode the
  // elements first.
  codec::Writer items;
  for (const auto& m : s.pending_messages) {
    items.WriteU64(m.seq);
    items.WriteOpaque("GroupState.pending_messages.message", m.message);
  }
  MIMI_ASSIGN_OR_RETURN(Bytes encoded_items, std::move(items).Finish());
  w.WriteOpaque("GroupState.pending_messages", encoded_items);
  return std::move(w).Finish();
}

Result<GroupState> DecodeGroupState(ByteSpan bytes) {
  codec::Reader r(bytes);
  GroupState s;
  MIMI_RETURN_IF_ERROR(r.ReadU16("GroupState.version", &s.version));
  if (s.version != kGroupStateVersion) {
    return UnsupportedError("GroupState.version: " + std::to_string(s.version) +
                            " (this DS reads version 1)");
  }
  MIMI_RETURN_IF_ERROR(r.ReadU16("GroupState.cipher_suite", &s.cipher_suite));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque("GroupState.group_id", &s.group_id));
  MIMI_RETURN_IF_ERROR(r.ReadU64("GroupState.epoch", &s.epoch));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque("GroupState.group_info", &s.group_info));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque("GroupState.ratchet_tree", &s.ratchet_tree));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque("GroupState.migration_commit", &s.migration_commit));
  ByteSpan items;
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView("GroupState.pending_messages", &items));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd("GroupState"));
  codec::Reader ir(items);
  while (!ir.empty()) {
    StoredMessage m;
    MIMI_RETURN_IF_ERROR(ir.ReadU64("GroupState.pending_messages.seq", &m.seq));
    MIMI_RETURN_IF_ERROR(
        ir.ReadOpaque("GroupState.pending_messages.message", &m.message));
    s.pending_messages.push_back(std::move(m));
  }
  return s;
}

}  // namespace mimi
