// Opening the embedded DS, and what its member API (member_api.cc) and its
// migration operations (migration_ops.cc) share.
#include "embedded_ds/embedded_ds.h"

#include <SQLiteCpp/Database.h>

#include <utility>

#include "embedded_ds/ds_tables.h"
#include "embedded_ds/refusals.h"
#include "store/sqlite_status.h"

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
  if (!writer) return InvalidArgumentError("embedded DS: no writer");
  const std::string& path = writer->path();
  return store::Guarded(
      "embedded DS: open " + path,
      [&]() -> Result<std::unique_ptr<EmbeddedDs>> {
        // Read-write only so that it may recover a WAL after a crash; it
        // never writes.
        auto reader = std::make_unique<SQLite::Database>(
            path, SQLite::OPEN_READWRITE, writer->busy_timeout_ms(),
            writer->vfs());
        reader->exec("PRAGMA query_only = ON");
        if (!reader->tableExists("ds_groups")) {
          return Status(
              StatusCode::kFailedPrecondition,
              "embedded DS: the database has no ds_groups table (open "
              "it with the store first so that its schema is upgraded)");
        }
        return std::unique_ptr<EmbeddedDs>(
            new EmbeddedDs(std::move(writer), std::move(reader), clock));
      });
}

EmbeddedDs::EmbeddedDs(std::shared_ptr<store::SqliteWriter> writer,
                       std::unique_ptr<SQLite::Database> reader,
                       const Clock& clock)
    : writer_(std::move(writer)), reader_(std::move(reader)), clock_(clock) {}

EmbeddedDs::~EmbeddedDs() = default;

void EmbeddedDs::SetMaxGroupIdBytes(size_t n) {
  max_group_id_bytes_.store(n, std::memory_order_relaxed);
}

Result<EmbeddedDs::CurrentGroup> EmbeddedDs::ReadCurrent(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return store::Guarded("embedded DS: read group",
                        [&]() -> Result<CurrentGroup> {
                          ReadSnapshot snapshot(reader);
                          if (auto t = LoadTombstone(reader, group_id))
                            return MovedError(*t);
                          std::optional<GroupRow> row =
                              LoadGroup(reader, group_id, Blobs::kAll);
                          if (!row) return UnknownGroup(group_id);
                          CurrentGroup g;
                          g.cipher_suite = row->cipher_suite;
                          g.epoch = row->epoch;
                          g.tree_epoch = row->tree_epoch;
                          g.frozen = !row->frozen_by.empty();
                          g.ratchet_tree = std::move(row->ratchet_tree);
                          g.group_info = std::move(row->group_info);
                          return g;
                        });
}

}  // namespace mimi::embedded_ds
