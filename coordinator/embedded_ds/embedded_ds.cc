// Opening the embedded DS, and what its member API (member_api.cc) and its
// migration operations (migration_ops.cc) share.
#include "embedded_ds/embedded_ds.h"

#include <utility>

#include "embedded_ds/ds_tables.h"
#include "embedded_ds/pg_ds_tables.h"
#include "embedded_ds/refusals.h"
#include "embedded_ds/sqlite_ds_tables.h"

namespace mimi::embedded_ds {

Result<std::unique_ptr<EmbeddedDs>> EmbeddedDs::Open(const std::string& db_path,
                                                     const Clock& clock) {
  // The schema is the store's to upgrade; the DS only checks its tables.
  store::SqliteWriterOptions options;
  options.create_if_missing = false;
  options.upgrade_schema = false;
  auto writer = store::SqliteWriter::Open(db_path, options);
  if (!writer.ok()) {
    return Status(writer.status().code(),
                  "embedded DS: " + writer.status().detail());
  }
  return Open(std::move(writer).value(), clock);
}

Result<std::unique_ptr<EmbeddedDs>> EmbeddedDs::Open(
    std::shared_ptr<store::SqliteWriter> writer, const Clock& clock) {
  MIMI_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDsTables> tables,
                        SqliteDsTables::Open(std::move(writer)));
  return std::unique_ptr<EmbeddedDs>(new EmbeddedDs(std::move(tables), clock));
}

Result<std::unique_ptr<EmbeddedDs>> EmbeddedDs::Open(
    std::shared_ptr<store::pg::PgPool> pool, const Clock& clock) {
  MIMI_ASSIGN_OR_RETURN(std::unique_ptr<PgDsTables> tables,
                        PgDsTables::Open(std::move(pool)));
  return std::unique_ptr<EmbeddedDs>(new EmbeddedDs(std::move(tables), clock));
}

EmbeddedDs::EmbeddedDs(std::unique_ptr<DsTables> tables, const Clock& clock)
    : tables_(std::move(tables)), clock_(clock) {}

EmbeddedDs::~EmbeddedDs() = default;

void EmbeddedDs::SetMaxGroupIdBytes(size_t n) {
  max_group_id_bytes_.store(n, std::memory_order_relaxed);
}

Result<EmbeddedDs::CurrentGroup> EmbeddedDs::ReadCurrent(ByteSpan group_id) {
  return tables_->ReadValue<CurrentGroup>(
      "embedded DS: read group", [&](DsTx& tx) -> Result<CurrentGroup> {
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kAll));
        CurrentGroup g;
        g.cipher_suite = row.cipher_suite;
        g.epoch = row.epoch;
        g.tree_epoch = row.tree_epoch;
        g.frozen = !row.frozen_by.empty();
        g.ratchet_tree = std::move(row.ratchet_tree);
        g.group_info = std::move(row.group_info);
        return g;
      });
}

}  // namespace mimi::embedded_ds
