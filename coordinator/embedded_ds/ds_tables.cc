#include "embedded_ds/ds_tables.h"

namespace mimi::embedded_ds {

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
