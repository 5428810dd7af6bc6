// The HTTP hook adapter against the Python stand-in DS
// (tests/standin_ds/standin_ds.py), which implements the hooks from the
// contract alone: every hook, repeats, refusals with the embedded DS's
// reasons, a DS that goes down and comes back, bad and missing MACs in both
// directions, TLS, and group state handed between the stand-in and the
// embedded DS in both directions.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "codec/json_text.h"
#include "daemon/ds_from_config.h"
#include "ds_http/hook_signature.h"
#include "ds_http/http_delivery_service.h"
#include "embedded_ds/embedded_ds.h"
#include "mimi_portability/ds_reason.h"
#include "mimi_portability/group_state.h"
#include "store/sqlite_store.h"
#include "testing/https_server.h"
#include "testing/loopback_port.h"
#include "testing/read_file.h"
#include "testing/standin_ds.h"
#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi::ds_http {
namespace {

using nlohmann::json;

constexpr char kScript[] = MIMI_SOURCE_DIR "/tests/standin_ds/standin_ds.py";
constexpr char kMigration[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr char kOther[] =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

using ::mimi::testing::ReadTextFile;

Bytes Fixture(const std::string& name) {
  return FromHex(ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/") + name))
      .value();
}

// ts-mls writes a bare GroupInfo; members hand it to a DS as an MLSMessage.
Bytes GroupInfoMessage(int suite) {
  return FromHex("00010004" +
                 ReadTextFile(
                     std::string(MIMI_TEST_DATA_DIR "/mls/group_info_suite") +
                     std::to_string(suite) + ".hex"))
      .value();
}

// The stand-in's member-facing API (/ds/v1, unauthenticated like the
// embedded one's).
struct Answer {
  int status = 0;
  json body;
};

Answer MemberCall(int port, const std::string& method, const std::string& path,
                  const json& body = json::object()) {
  httplib::Client cli("127.0.0.1", port);
  auto res = method == "GET" ? cli.Get(path)
                             : cli.Post(path, mimi::codec::DumpJson(body),
                                        "application/json");
  if (!res) return {};
  return {res->status, mimi::codec::ParseJson(res->body)};
}

HookClientOptions Options(const testing::StandinDs& ds,
                          std::string secret = "") {
  HookClientOptions o;
  o.base_url = ds.base_url();
  o.secret = crypto::SecretBytes(secret.empty() ? ds.secret() : secret);
  o.timeout = std::chrono::milliseconds(3000);
  return o;
}

std::unique_ptr<HttpDeliveryService> Adapter(
    HookClientOptions options, const Clock& clock = SystemClock::Get()) {
  auto ds = HttpDeliveryService::Create(std::move(options), clock);
  EXPECT_TRUE(ds.ok()) << ds.status().ToString();
  return ds.ok() ? std::move(ds).value() : nullptr;
}

Tombstone MakeTombstone(ByteSpan group_id) {
  Tombstone t;
  t.group_id.assign(group_id.begin(), group_id.end());
  t.moved_to = "target.test";
  t.moved_at_ms = 1'700'000'123'456;
  t.confirmation = {0xc0, 0xff, 0xee};
  return t;
}

class DsHttpTest : public ::testing::Test {
 protected:
  std::unique_ptr<testing::StandinDs> StartStandin(const std::string& name) {
    auto ds = testing::StandinDs::Start({kScript, dir_.path(), name, {}, {}});
    EXPECT_TRUE(ds.ok()) << ds.status().ToString();
    return ds.ok() ? std::move(ds).value() : nullptr;
  }

  void SetUp() override {
    manifest_ = mimi::codec::ParseJson(
        ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/manifest.json")));
    group_id_ =
        FromHex(manifest_["suites"][0]["group_id"].get<std::string>()).value();
    tree_ = Fixture("ratchet_tree_suite1.hex");
    commit_ = Fixture("commit_public_suite1.hex");
    source_ = StartStandin("source");
    ASSERT_NE(source_, nullptr);
    Answer created = MemberCall(source_->port(), "POST", "/ds/v1/groups",
                                {{"group_info", ToHex(GroupInfoMessage(1))},
                                 {"ratchet_tree", ToHex(tree_)}});
    ASSERT_EQ(created.status, 201) << mimi::codec::DumpJson(created.body);
    ASSERT_EQ(created.body["epoch"], 1);
    ds_ = Adapter(Options(*source_));
    ASSERT_NE(ds_, nullptr);
  }

  // A member's commit through the stand-in's member API.
  Answer SubmitCommit(const testing::StandinDs& ds) {
    return MemberCall(
        ds.port(), "POST", "/ds/v1/groups/" + ToHex(group_id_) + "/commits",
        {{"commit", ToHex(commit_)}, {"ratchet_tree", ToHex(tree_)}});
  }

  testing::TempDir dir_;
  json manifest_;
  Bytes group_id_, tree_, commit_;
  std::unique_ptr<testing::StandinDs> source_;
  std::unique_ptr<HttpDeliveryService> ds_;
};

TEST_F(DsHttpTest, LookupGroupAndMemberKeys) {
  auto s = ds_->LookupGroup(group_id_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->group_id, group_id_);
  EXPECT_EQ(s->epoch, 1u);
  EXPECT_EQ(s->ciphersuite, 1);
  EXPECT_FALSE(s->frozen);
  EXPECT_EQ(s->migration_id, "");
  for (const json& m : manifest_["suites"][0]["members"]) {
    auto key =
        ds_->MemberSignatureKey(group_id_, m["leaf_index"].get<uint32_t>());
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(ToHex(*key), m["signature_public_key"].get<std::string>());
  }
}

TEST_F(DsHttpTest, RefusalsKeepTheEmbeddedDsCodesAndReasons) {
  const Bytes unknown = ToBytes("no-such-group");
  auto lookup = ds_->LookupGroup(unknown);
  EXPECT_EQ(lookup.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(lookup.status().reason(), "unknown-group");
  auto leaf = ds_->MemberSignatureKey(group_id_, 7);
  EXPECT_EQ(leaf.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(leaf.status().reason(), "unknown-leaf");
  auto tomb = ds_->LookupTombstone(group_id_);
  EXPECT_EQ(tomb.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ds_->Freeze(unknown, 1, kMigration).reason(), "unknown-group");
  Status epoch = ds_->Freeze(group_id_, 5, kMigration);
  EXPECT_EQ(epoch.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(epoch.reason(), "epoch-mismatch");
  auto exported = ds_->ExportGroupState(group_id_, commit_, kMigration);
  EXPECT_EQ(exported.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(exported.status().reason(), "not-frozen");
  EXPECT_EQ(ds_->FanOutCommit(group_id_, commit_, kMigration).reason(),
            "not-frozen");
  EXPECT_EQ(ds_->DeleteGroup(group_id_, MakeTombstone(group_id_), kMigration)
                .reason(),
            "not-frozen");
  Status bad_state = ds_->ImportGroupState(Bytes{0x00, 0x01, 0x00}, kMigration);
  EXPECT_EQ(bad_state.code(), StatusCode::kMalformed) << bad_state.ToString();
  Status version = ds_->ImportGroupState(Bytes{0x00, 0x03}, kMigration);
  EXPECT_EQ(version.code(), StatusCode::kUnsupported) << version.ToString();
  // None of it changed the group.
  auto s = ds_->LookupGroup(group_id_);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->frozen);
  EXPECT_EQ(s->epoch, 1u);
}

TEST_F(DsHttpTest, FreezeIsIdempotentAndStopsCommits) {
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration)
                  .ok());  // the recovery loop's repeat
  Status other = ds_->Freeze(group_id_, 1, kOther);
  EXPECT_EQ(other.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.reason(), "group-frozen");
  auto s = ds_->LookupGroup(group_id_);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->frozen);
  EXPECT_EQ(s->migration_id, kMigration);

  Answer refused = SubmitCommit(*source_);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body["error"], "group-frozen");
  Answer message =
      MemberCall(source_->port(), "POST",
                 "/ds/v1/groups/" + ToHex(group_id_) + "/messages",
                 {{"message", ToHex(Fixture("application_suite1.hex"))}});
  EXPECT_EQ(message.status, 409);

  // Another migration's unfreeze lifts nothing; the holder's does, twice.
  ASSERT_TRUE(ds_->Unfreeze(group_id_, kOther).ok());
  EXPECT_TRUE(ds_->LookupGroup(group_id_)->frozen);
  ASSERT_TRUE(ds_->Unfreeze(group_id_, kMigration).ok());
  ASSERT_TRUE(ds_->Unfreeze(group_id_, kMigration).ok());
  EXPECT_FALSE(ds_->LookupGroup(group_id_)->frozen);

  Answer accepted = SubmitCommit(*source_);
  EXPECT_EQ(accepted.status, 200) << mimi::codec::DumpJson(accepted.body);
  EXPECT_EQ(ds_->LookupGroup(group_id_)->epoch, 2u);
  EXPECT_EQ(ds_->Freeze(group_id_, 1, kMigration).reason(), "epoch-mismatch");
}

TEST_F(DsHttpTest, ExportIsRepeatableAndByteIdenticalToTheEmbeddedDs) {
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  auto first = ds_->ExportGroupState(group_id_, commit_, kMigration);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = ds_->ExportGroupState(group_id_, commit_, kMigration);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  auto state = DecodeGroupState(*first);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->group_id, group_id_);
  EXPECT_EQ(state->epoch, 1u);
  EXPECT_EQ(state->cipher_suite, 1);
  EXPECT_EQ(state->ratchet_tree, tree_);
  EXPECT_EQ(state->migration_commit, commit_);
  EXPECT_EQ(state->group_info, GroupInfoMessage(1));

  // The same group in the embedded DS exports the very same bytes.
  FakeClock clock;
  const std::string db = dir_ / "embedded.db";
  ASSERT_TRUE(store::SqliteStore::Open(db, clock).ok());
  auto embedded = embedded_ds::EmbeddedDs::Open(db, clock);
  ASSERT_TRUE(embedded.ok());
  ASSERT_TRUE((*embedded)->CreateGroup(GroupInfoMessage(1), tree_).ok());
  ASSERT_TRUE((*embedded)->Freeze(group_id_, 1, kMigration).ok());
  auto reference =
      (*embedded)->ExportGroupState(group_id_, commit_, kMigration);
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(ToHex(*reference), ToHex(*first));
}

TEST_F(DsHttpTest, HandOverBetweenTwoExternalDssWithEveryStepRepeated) {
  auto target_ds = StartStandin("target");
  ASSERT_NE(target_ds, nullptr);
  auto target = Adapter(Options(*target_ds));
  ASSERT_NE(target, nullptr);

  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  auto state = ds_->ExportGroupState(group_id_, commit_, kMigration);
  ASSERT_TRUE(state.ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(target->ImportGroupState(*state, kMigration).ok()) << i;
  }
  Status again = target->ImportGroupState(*state, kOther);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.reason(), "group-exists");
  auto imported = target->LookupGroup(group_id_);
  ASSERT_TRUE(imported.ok());
  EXPECT_EQ(imported->epoch, 2u);
  EXPECT_FALSE(imported->frozen);
  EXPECT_EQ(imported->migration_id, kMigration);
  // Members that missed the source's fan-out find the commit at the target.
  Answer at_target =
      MemberCall(target_ds->port(), "GET",
                 "/ds/v1/groups/" + ToHex(group_id_) + "/messages");
  ASSERT_EQ(at_target.status, 200);
  ASSERT_EQ(at_target.body["messages"].size(), 1u);
  EXPECT_EQ(at_target.body["messages"][0]["message"], ToHex(commit_));

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ds_->FanOutCommit(group_id_, commit_, kMigration).ok()) << i;
  }
  Answer fanned =
      MemberCall(source_->port(), "GET",
                 "/ds/v1/groups/" + ToHex(group_id_) + "/messages?after=0");
  ASSERT_EQ(fanned.status, 200);
  EXPECT_EQ(fanned.body["messages"].size(), 1u) << "exactly once per migration";
  // Exporting after the fan-out still yields the same bytes.
  EXPECT_EQ(*ds_->ExportGroupState(group_id_, commit_, kMigration), *state);

  const Tombstone tomb = MakeTombstone(group_id_);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(ds_->DeleteGroup(group_id_, tomb, kMigration).ok()) << i;
  }
  auto moved = ds_->LookupGroup(group_id_);
  EXPECT_EQ(moved.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(moved.status().reason(), "moved");
  EXPECT_NE(moved.status().detail().find("target.test"), std::string::npos);
  auto kept = ds_->LookupTombstone(group_id_);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->moved_to, tomb.moved_to);
  EXPECT_EQ(kept->moved_at_ms, tomb.moved_at_ms);
  EXPECT_EQ(kept->confirmation, tomb.confirmation);
  // A fan-out repeated after the purge is still fine; another migration's
  // steps are refused as the embedded DS refuses them.
  EXPECT_TRUE(ds_->FanOutCommit(group_id_, commit_, kMigration).ok());
  EXPECT_EQ(ds_->FanOutCommit(group_id_, commit_, kOther).reason(), "moved");
  Status other_delete = ds_->DeleteGroup(group_id_, tomb, kOther);
  EXPECT_EQ(other_delete.code(), StatusCode::kNotFound);
  EXPECT_EQ(other_delete.reason(), "moved");
  EXPECT_EQ(ds_->MemberSignatureKey(group_id_, 0).status().reason(), "moved");
  Answer member = SubmitCommit(*source_);
  EXPECT_EQ(member.status, 410);
  EXPECT_EQ(member.body["moved_to"], "target.test");
}

TEST_F(DsHttpTest, EmbeddedAndExternalDssImportEachOthersState) {
  FakeClock clock;
  const std::string db = dir_ / "embedded.db";
  ASSERT_TRUE(store::SqliteStore::Open(db, clock).ok());
  auto embedded = embedded_ds::EmbeddedDs::Open(db, clock);
  ASSERT_TRUE(embedded.ok());

  // external -> embedded
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  auto out = ds_->ExportGroupState(group_id_, commit_, kMigration);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*embedded)->ImportGroupState(*out, kMigration).ok());
  EXPECT_EQ((*embedded)->LookupGroup(group_id_)->epoch, 2u);
  ASSERT_TRUE(
      ds_->DeleteGroup(group_id_, MakeTombstone(group_id_), kMigration).ok());

  // embedded -> external, with a suite-2 group (P-256, compressed keys).
  const Bytes group2 =
      FromHex(manifest_["suites"][1]["group_id"].get<std::string>()).value();
  const Bytes commit2 = Fixture("commit_private_suite2.hex");
  ASSERT_TRUE(
      (*embedded)
          ->CreateGroup(GroupInfoMessage(2), Fixture("ratchet_tree_suite2.hex"))
          .ok());
  ASSERT_TRUE((*embedded)->Freeze(group2, 1, kOther).ok());
  auto back = (*embedded)->ExportGroupState(group2, commit2, kOther);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(ds_->ImportGroupState(*back, kOther).ok());
  auto s = ds_->LookupGroup(group2);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ciphersuite, 2);
  EXPECT_EQ(s->epoch, 2u);
  auto key = ds_->MemberSignatureKey(group2, 2);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ToHex(*key),
            manifest_["suites"][1]["members"][2]["signature_public_key"]
                .get<std::string>());
}

// "moved" has one code in the DS contract (kNotFound, delivery_service.h):
// the embedded DS and the adapter over the stand-in refuse every call on a
// group that left with it, a delete under another migration included.
TEST_F(DsHttpTest, AMovedGroupIsTheSameRefusalFromEitherDs) {
  FakeClock clock;
  const std::string db = dir_ / "embedded.db";
  ASSERT_TRUE(store::SqliteStore::Open(db, clock).ok());
  auto embedded = embedded_ds::EmbeddedDs::Open(db, clock);
  ASSERT_TRUE(embedded.ok());
  ASSERT_TRUE((*embedded)->CreateGroup(GroupInfoMessage(1), tree_).ok());

  const Tombstone tomb = MakeTombstone(group_id_);
  const std::pair<const char*, DeliveryService*> dss[] = {
      {"embedded", embedded->get()}, {"hooks", ds_.get()}};
  for (const auto& [name, ds] : dss) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(ds->Freeze(group_id_, 1, kMigration).ok());
    ASSERT_TRUE(ds->DeleteGroup(group_id_, tomb, kMigration).ok());
    const Status refusals[] = {
        ds->LookupGroup(group_id_).status(),
        ds->MemberSignatureKey(group_id_, 0).status(),
        ds->Freeze(group_id_, 1, kOther),
        ds->ExportGroupState(group_id_, commit_, kOther).status(),
        ds->FanOutCommit(group_id_, commit_, kOther),
        ds->DeleteGroup(group_id_, tomb, kOther),
    };
    for (size_t i = 0; i < std::size(refusals); ++i) {
      EXPECT_EQ(refusals[i].code(), StatusCode::kNotFound)
          << i << ": " << refusals[i].ToString();
      EXPECT_EQ(refusals[i].reason(), ds_reason::kMoved)
          << i << ": " << refusals[i].ToString();
    }
  }
}

TEST_F(DsHttpTest, DsDownIsUnavailableThenTheRepeatSucceeds) {
  source_->Stop();
  Status down = ds_->Freeze(group_id_, 1, kMigration);
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_EQ(ds_->LookupGroup(group_id_).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(
      ds_->ExportGroupState(group_id_, commit_, kMigration).status().code(),
      StatusCode::kUnavailable);

  ASSERT_TRUE(source_->Restart().ok());
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  auto s = ds_->LookupGroup(group_id_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->frozen);

  // Down again after the freeze: the state survived, the repeat is harmless.
  ASSERT_TRUE(source_->Restart().ok());
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  EXPECT_TRUE(ds_->ExportGroupState(group_id_, commit_, kMigration).ok());
}

TEST_F(DsHttpTest, ServerErrorsAreUnavailable) {
  Answer armed = MemberCall(source_->port(), "POST", "/standin/v1/fail",
                            {{"count", 2}, {"status", 503}});
  ASSERT_EQ(armed.status, 200);
  Status first = ds_->Freeze(group_id_, 1, kMigration);
  EXPECT_EQ(first.code(), StatusCode::kUnavailable);
  EXPECT_EQ(first.reason(), "injected-failure");
  EXPECT_EQ(ds_->LookupGroup(group_id_).status().code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(ds_->Freeze(group_id_, 1, kMigration).ok());
  MemberCall(source_->port(), "POST", "/standin/v1/fail",
             {{"count", 1}, {"status", 429}});
  EXPECT_EQ(ds_->LookupGroup(group_id_).status().code(),
            StatusCode::kUnavailable);
}

TEST_F(DsHttpTest, WrongSecretOrSkewedClockIsRetryableNotARefusal) {
  auto forged = Adapter(Options(*source_, std::string(64, 'x')));
  ASSERT_NE(forged, nullptr);
  Status s = forged->Freeze(group_id_, 1, kMigration);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.reason(), "hook-unauthorized");
  EXPECT_NE(s.detail().find("MAC"), std::string::npos) << s.detail();

  FakeClock behind(SystemClock::Get().NowMillis() - 6 * 60 * 1000);
  auto stale = Adapter(Options(*source_), behind);
  ASSERT_NE(stale, nullptr);
  Status t = stale->Freeze(group_id_, 1, kMigration);
  EXPECT_EQ(t.code(), StatusCode::kUnavailable);
  EXPECT_EQ(t.reason(), "hook-unauthorized");
  EXPECT_NE(t.detail().find("ms away"), std::string::npos) << t.detail();

  FakeClock ahead(SystemClock::Get().NowMillis() +
                  4 * 60 * 1000);  // within 5 min
  auto skewed = Adapter(Options(*source_), ahead);
  EXPECT_TRUE(skewed->LookupGroup(group_id_).ok());

  EXPECT_FALSE(ds_->LookupGroup(group_id_)->frozen)
      << "refused calls change nothing";
}

TEST_F(DsHttpTest, StandinRefusesForgedStaleAndUnsignedRequests) {
  const std::string path = "/mimi-hooks/v1/freeze";
  const std::string body =
      mimi::codec::DumpJson(json{{"group_id", ToHex(group_id_)},
                                 {"epoch", 1},
                                 {"migration_id", kMigration}});
  const Bytes secret = ToBytes(source_->secret());
  httplib::Client cli("127.0.0.1", source_->port());
  auto post = [&](const std::string& header) {
    httplib::Headers h;
    if (!header.empty()) h.emplace(kSignatureHeader, header);
    return cli.Post(path, h, body, "application/json");
  };
  const UnixMillis now = SystemClock::Get().NowMillis();

  auto unsigned_res = post("");
  ASSERT_TRUE(unsigned_res);
  EXPECT_EQ(unsigned_res->status, 401);

  auto good = SignRequest(secret, "POST", path, body, now);
  ASSERT_TRUE(good.ok());
  HookSignature flipped = *good;
  flipped.mac[0] ^= 1;
  auto forged_res = post(FormatSignatureHeader(flipped));
  ASSERT_TRUE(forged_res);
  EXPECT_EQ(forged_res->status, 401);
  EXPECT_EQ(mimi::codec::ParseJson(forged_res->body)["error"], "bad-signature");

  // Signed for another path, or another body: refused.
  auto other_path =
      SignRequest(secret, "POST", "/mimi-hooks/v1/unfreeze", body, now);
  EXPECT_EQ(post(FormatSignatureHeader(*other_path))->status, 401);
  auto other_body = SignRequest(secret, "POST", path, body + " ", now);
  EXPECT_EQ(post(FormatSignatureHeader(*other_body))->status, 401);

  auto stale =
      SignRequest(secret, "POST", path, body, now - 5 * 60 * 1000 - 5000);
  auto stale_res = post(FormatSignatureHeader(*stale));
  ASSERT_TRUE(stale_res);
  EXPECT_EQ(stale_res->status, 401);
  EXPECT_EQ(mimi::codec::ParseJson(stale_res->body)["error"],
            "stale-timestamp");
  auto future =
      SignRequest(secret, "POST", path, body, now + 5 * 60 * 1000 + 5000);
  EXPECT_EQ(post(FormatSignatureHeader(*future))->status, 401);
  EXPECT_FALSE(ds_->LookupGroup(group_id_)->frozen);

  // The genuine request goes through, and its answer is signed for it.
  auto ok_res = post(FormatSignatureHeader(*good));
  ASSERT_TRUE(ok_res);
  EXPECT_EQ(ok_res->status, 200);
  EXPECT_TRUE(VerifyResponse(secret, ok_res->get_header_value(kSignatureHeader),
                             200, path, good->mac, ok_res->body)
                  .ok());
  EXPECT_FALSE(VerifyResponse(secret,
                              ok_res->get_header_value(kSignatureHeader), 200,
                              path, flipped.mac, ok_res->body)
                   .ok());
  EXPECT_TRUE(ds_->LookupGroup(group_id_)->frozen);
}

// A fake "DS" that answers like the real one would, but without the DS's
// signature: a misrouted base URL or a proxy's error page must never pass for
// "no such group" (which could make a source give up a live group).
TEST(DsHttpAnswerTest, UnsignedOrMissignedAnswersAreNotBelieved) {
  httplib::Server server;
  std::atomic<int> mode{0};
  server.Post(R"(/mimi-hooks/v1/.*)",
              [&](const httplib::Request& req, httplib::Response& res) {
                res.status = 404;
                res.set_content(R"({"error":"unknown-group","detail":"no"})",
                                "application/json");
                if (mode == 1) {
                  // Signed, but with the wrong key.
                  auto sig = SignResponse(ToBytes(std::string(40, 'k')), 404,
                                          req.path, Bytes(32, 0), res.body, 1);
                  res.set_header(kSignatureHeader, FormatSignatureHeader(*sig));
                }
              });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

  HookClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.secret = crypto::SecretBytes(std::string(40, 's'));
  auto ds = Adapter(std::move(o));
  ASSERT_NE(ds, nullptr);
  auto unsigned_answer = ds->LookupGroup(ToBytes("g"));
  EXPECT_EQ(unsigned_answer.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(unsigned_answer.status().reason(), "hook-bad-response-signature");
  mode = 1;
  auto wrong_key = ds->LookupGroup(ToBytes("g"));
  EXPECT_EQ(wrong_key.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(wrong_key.status().reason(), "hook-bad-response-signature");
  ds.reset();  // closes its keep-alive connection, so stop() need not wait
  server.stop();
  thread.join();
}

TEST(DsHttpAnswerTest, NobodyListeningIsUnavailable) {
  HookClientOptions o;
  o.base_url =
      "http://127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort());
  o.secret = crypto::SecretBytes(std::string(40, 's'));
  auto ds = Adapter(std::move(o));
  ASSERT_NE(ds, nullptr);
  Status s = ds->Freeze(ToBytes("g"), 1, kMigration);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.reason(), "ds-unavailable");
}

TEST_F(DsHttpTest, ConcurrentCallsAllSucceed) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        if (!ds_->LookupGroup(group_id_).ok()) failures++;
        if (!ds_->MemberSignatureKey(group_id_,
                                     static_cast<uint32_t>((t + i) % 3))
                 .ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Keep-alive and TCP_NODELAY on both ends: a hook call costs about a
// millisecond on loopback. A lost NODELAY shows as >= 40 ms per call.
TEST_F(DsHttpTest, SequentialCallsAreFast) {
  constexpr int kCalls = 100;
  ASSERT_TRUE(ds_->LookupGroup(group_id_).ok());  // connect
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i)
    ASSERT_TRUE(ds_->LookupGroup(group_id_).ok());
  const double per_call_ms = std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - start)
                                 .count() /
                             kCalls;
  std::printf("lookup-group: %.2f ms per call\n", per_call_ms);
  EXPECT_LT(per_call_ms, 20.0);
}

TEST_F(DsHttpTest, HttpsIsVerifiedAgainstTheConfiguredCa) {
  auto ca = testing::TestCa::Create(dir_.path());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  auto leaf = ca->IssueLeaf("ds", {"localhost"});
  ASSERT_TRUE(leaf.ok());
  auto tls_ds = testing::StandinDs::Start(
      {kScript, dir_.path(), "tls", leaf->cert_path, leaf->key_path});
  ASSERT_TRUE(tls_ds.ok()) << tls_ds.status().ToString();
  ASSERT_EQ((*tls_ds)->base_url().rfind("https://", 0), 0u);

  auto options = Options(**tls_ds);
  options.ca_file = ca->ca_cert_path().string();
  auto verified = Adapter(std::move(options));
  auto missing = verified->LookupGroup(group_id_);  // a fresh DS: no groups
  EXPECT_EQ(missing.status().reason(), "unknown-group")
      << missing.status().ToString();

  // Without our CA the certificate does not verify: retryable, not a refusal.
  auto unverified = Adapter(Options(**tls_ds));
  auto s = unverified->LookupGroup(group_id_);
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable)
      << s.status().ToString();
}

TEST_F(DsHttpTest, FactoryReadsTheConfig) {
  daemon::Config config;
  config.ds.mode = "http";
  config.ds.base_url = source_->base_url();
  config.ds.secret_file = source_->secret_file().string();
  config.ds.timeout_ms = 2000;
  auto ds = daemon::CreateHttpDeliveryService(config, SystemClock::Get());
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ((*ds)->LookupGroup(group_id_)->epoch, 1u);

  chmod(source_->secret_file().c_str(), 0640);
  auto loose = daemon::CreateHttpDeliveryService(config, SystemClock::Get());
  EXPECT_EQ(loose.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(loose.status().detail().find("ds.secret_file"), std::string::npos);
  chmod(source_->secret_file().c_str(), 0600);

  const std::string short_secret = dir_ / "short.secret";
  std::ofstream(short_secret) << "too-short\n";
  chmod(short_secret.c_str(), 0600);
  config.ds.secret_file = short_secret;
  EXPECT_EQ(daemon::CreateHttpDeliveryService(config, SystemClock::Get())
                .status()
                .code(),
            StatusCode::kInvalidArgument);

  config.ds.mode = "embedded";
  EXPECT_FALSE(
      daemon::CreateHttpDeliveryService(config, SystemClock::Get()).ok());
}

}  // namespace
}  // namespace mimi::ds_http
