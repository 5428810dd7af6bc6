// The RAII layer over libpq and its pool (store/pg/): SQLSTATEs become the
// project's Status codes (serialization failure, unique violation, the
// triggers, a lost connection), a URL with a password is refused, a
// transaction left uncommitted rolls back, a statement is prepared once per
// connection, the pool never opens more than its bound, and a connection
// the server dropped is replaced without the caller seeing it. The server
// cases run against MIMI_TEST_PG_URL (testing/store_backend.h).
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "store/pg/pg_connection.h"
#include "store/pg/pg_pool.h"
#include "store/pg/pg_status.h"
#include "store/pg/pg_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store::pg {
namespace {

using ::mimi::testing::PgTestSchema;
using ::mimi::testing::TempDir;

TEST(PgStatusTest, SqlStatesMapOntoTheStatusCodes) {
  EXPECT_EQ(StatusFromSqlState("w", "40001", "m").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("w", "40P01", "m").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("w", "23505", "m").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromSqlState("w", "23503", "m").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromSqlState("w", "P0001", "m").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromSqlState("w", "08006", "m").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("w", "57P01", "m").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("w", "", "server closed the connection\n")
                .code(),
            StatusCode::kUnavailable);
  Status other = StatusFromSqlState("creating x", "42P01", "no table\n");
  EXPECT_EQ(other.code(), StatusCode::kInternal);
  EXPECT_EQ(other.detail(), "creating x: no table (SQLSTATE 42P01)");
  EXPECT_TRUE(IsRetryableSqlState("40001"));
  EXPECT_FALSE(IsRetryableSqlState("23505"));
}

TEST(PgUrlTest, APasswordInTheUrlOrAnotherSchemeIsRefused) {
  EXPECT_TRUE(CheckUrl("postgresql://mimi@db.example:5432/mimi").ok());
  EXPECT_TRUE(CheckUrl("postgres://db.example/mimi?sslmode=require").ok());
  Status with_password = CheckUrl("postgresql://mimi:secret@db.example/mimi");
  EXPECT_EQ(with_password.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(with_password.detail().find("secret"), std::string::npos)
      << "the error must not repeat the password";
  EXPECT_EQ(CheckUrl("postgresql://db.example/mimi?password=secret").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckUrl("sqlite:/var/lib/mimi/store.db").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckUrl("postgresql://db.example/mimi?nosuchoption=1").code(),
            StatusCode::kInvalidArgument);
}

TEST(PgUrlTest, PasswordFileIsItsFirstLine) {
  TempDir dir;
  {
    std::ofstream(dir.File("pw")) << "s3cret\nignored\n";
    std::ofstream(dir.File("empty")) << "\n";
  }
  EXPECT_EQ(*ReadPasswordFile(dir.File("pw")), "s3cret");
  EXPECT_EQ(ReadPasswordFile(dir.File("empty")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPasswordFile(dir.File("none")).status().code(),
            StatusCode::kNotFound);
}

TEST(PgConnectTest, AnUnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  auto c = PgConnection::Open({"postgresql://mimi@127.0.0.1:1/mimi", "", 2});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
}

class PgClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = ::mimi::testing::TestPgUrl();
    if (!url) GTEST_SKIP() << ::mimi::testing::kNoTestPgMessage;
    auto schema = PgTestSchema::Create(*url);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = std::move(schema).value();
    c_ = Connect();
    ASSERT_NE(c_, nullptr);
    ASSERT_TRUE(c_->Exec("setup", "CREATE TABLE t (k TEXT PRIMARY KEY, "
                                  "v BIGINT NOT NULL, b BYTEA)")
                    .ok());
  }
  std::unique_ptr<PgConnection> Connect() {
    auto c = PgConnection::Open({schema_->url(), "", 10});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  PgPoolOptions Pool(int max) {
    PgPoolOptions o;
    o.connect.url = schema_->url();
    o.max_connections = max;
    o.acquire_timeout_ms = 200;
    return o;
  }

  std::unique_ptr<PgTestSchema> schema_;
  std::unique_ptr<PgConnection> c_;
};

constexpr PgStatement kInsert = {"t_insert",
                                 "INSERT INTO t (k, v, b) VALUES ($1, $2, $3)"};
constexpr PgStatement kGet = {"t_get", "SELECT v, b, k FROM t WHERE k = $1"};

TEST_F(PgClientTest, ParametersAndBinaryResultsRoundTrip) {
  Bytes blob = {0, 1, 0xff, 0, 0x7f};
  PgParams p;
  p.Text("key").Int(-1234567890123).Blob(blob);
  ASSERT_TRUE(c_->Run("insert", kInsert, p).ok());
  PgParams k;
  k.Text("key");
  auto r = c_->Run("get", kGet, k);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->Int(0, 0), -1234567890123);
  EXPECT_EQ(r->Blob(0, 1), blob);
  EXPECT_EQ(r->Text(0, 2), "key");
  // A second run reuses the statement prepared on this connection.
  ASSERT_TRUE(c_->Run("get", kGet, k).ok());
  auto prepared = c_->Exec("count", "SELECT COUNT(*) FROM pg_prepared_statements "
                                    "WHERE name = 't_get'");
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->Text(0, 0), "1");
}

TEST_F(PgClientTest, AUniqueViolationIsAlreadyExistsAndChangesNothing) {
  PgParams p;
  p.Text("k").Int(1).Null();
  ASSERT_TRUE(c_->Run("insert", kInsert, p).ok());
  PgParams again;
  again.Text("k").Int(2).Null();
  auto r = c_->Run("insert", kInsert, again);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists)
      << r.status().ToString();
  EXPECT_EQ(c_->last_sqlstate(), "23505");
  EXPECT_EQ(c_->Exec("v", "SELECT v FROM t")->Text(0, 0), "1");
}

TEST_F(PgClientTest, AnUncommittedTransactionRollsBack) {
  {
    auto tx = PgTransaction::Begin(*c_);
    ASSERT_TRUE(tx.ok());
    PgParams p;
    p.Text("gone").Int(1).Null();
    ASSERT_TRUE(c_->Run("insert", kInsert, p).ok());
  }
  EXPECT_EQ(c_->Exec("count", "SELECT COUNT(*) FROM t")->Text(0, 0), "0");
  {
    auto tx = PgTransaction::Begin(*c_);
    ASSERT_TRUE(tx.ok());
    PgParams p;
    p.Text("kept").Int(1).Null();
    ASSERT_TRUE(c_->Run("insert", kInsert, p).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(c_->Exec("count", "SELECT COUNT(*) FROM t")->Text(0, 0), "1");
}

// Two transactions on one row: the one whose snapshot is stale is told to
// retry (kUnavailable), which PgPool::Transact does by itself.
TEST_F(PgClientTest, ASerializationFailureIsUnavailable) {
  ASSERT_TRUE(c_->Exec("seed", "INSERT INTO t VALUES ('r', 0, NULL)").ok());
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  auto tx = PgTransaction::Begin(*c_, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(c_->Exec("snapshot", "SELECT v FROM t").ok());
  ASSERT_TRUE(other->Exec("update", "UPDATE t SET v = 1 WHERE k = 'r'").ok());
  auto r = c_->Exec("update", "UPDATE t SET v = 2 WHERE k = 'r'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable)
      << r.status().ToString();
  EXPECT_TRUE(IsRetryableSqlState(c_->last_sqlstate()));
}

TEST_F(PgClientTest, ThePoolNeverOpensMoreThanItsBound) {
  auto pool = PgPool::Open(Pool(2));
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  {
    auto a = (*pool)->Acquire();
    auto b = (*pool)->Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    auto c = (*pool)->Acquire();
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ((*pool)->OpenConnectionsForTesting(), 2);
  }
  // Given back, they are lent again rather than opened anew.
  auto again = (*pool)->Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*pool)->OpenConnectionsForTesting(), 2);
}

// The server ends the pool's idle connection (as a restart does): the next
// transaction finds it dead at BEGIN and runs on a fresh one, and the dead
// one is not lent again.
TEST_F(PgClientTest, AConnectionTheServerDroppedIsReplaced) {
  auto pool = PgPool::Open(Pool(1));
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  std::string pid;
  {
    auto h = (*pool)->Acquire();
    ASSERT_TRUE(h.ok());
    pid = (*h)->Exec("pid", "SELECT pg_backend_pid()")->Text(0, 0);
  }
  ASSERT_EQ(c_->Exec("kill", "SELECT pg_terminate_backend(" + pid + ")")
                ->Text(0, 0),
            "t");
  Status s = (*pool)->Transact("insert", [](PgConnection& c) -> Status {
    PgParams p;
    p.Text("after").Int(1).Null();
    auto r = c.Run("insert", kInsert, p);
    return r.ok() ? Status::Ok() : r.status();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c_->Exec("count", "SELECT COUNT(*) FROM t")->Text(0, 0), "1");
  // A statement on a connection lost mid-use is kUnavailable.
  auto h = (*pool)->Acquire();
  ASSERT_TRUE(h.ok());
  const std::string pid2 = (*h)->Exec("pid", "SELECT pg_backend_pid()")->Text(0, 0);
  EXPECT_NE(pid2, pid);
  ASSERT_TRUE(c_->Exec("kill", "SELECT pg_terminate_backend(" + pid2 + ")").ok());
  auto lost = (*h)->Exec("select", "SELECT 1");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable)
      << lost.status().ToString();
  EXPECT_TRUE((*h)->broken());
}

}  // namespace
}  // namespace mimi::store::pg
