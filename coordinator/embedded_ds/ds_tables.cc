#include "embedded_ds/ds_tables.h"

#include "embedded_ds/refusals.h"

namespace mimi::embedded_ds {

Result<GroupRow> LoadLiveGroup(DsTx& tx, ByteSpan group_id, Blobs blobs) {
  MIMI_ASSIGN_OR_RETURN(std::optional<Tombstone> t,
                        tx.LoadTombstone(group_id, nullptr));
  if (t) return MovedError(*t);
  MIMI_ASSIGN_OR_RETURN(std::optional<GroupRow> row,
                        tx.LoadGroup(group_id, blobs));
  if (!row) return UnknownGroup(group_id);
  return *std::move(row);
}

GroupSummary Summarize(ByteSpan group_id, const GroupRow& row) {
  GroupSummary s;
  s.group_id.assign(group_id.begin(), group_id.end());
  s.epoch = row.epoch;
  s.ciphersuite = row.cipher_suite;
  s.frozen = !row.frozen_by.empty();
  s.migration_id = s.frozen ? row.frozen_by : row.imported_by;
  return s;
}

}  // namespace mimi::embedded_ds
