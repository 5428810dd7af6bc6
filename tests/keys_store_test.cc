// DsKeyStore: generation on first start, persistence across restarts, file
// modes, rotation with the old key verifying until its expiry.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "crypto/labeled_signature.h"
#include "keys/ds_key_store.h"
#include "keys/key_id.h"
#include "testing/temp_dir.h"

namespace mimi::keys {
namespace {

namespace fs = std::filesystem;
using ::mimi::testing::TempDir;

unsigned Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

TEST(DsKeyStoreTest, GeneratesOnFirstStartAndReloadsTheSameKeys) {
  TempDir tmp;
  FakeClock clock;
  const fs::path dir = tmp / "data" / "keys";
  std::vector<DsPublicKey> first;
  {
    auto store = DsKeyStore::Open(dir, {2, 1, 7}, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    first = (*store)->CurrentKeys();
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(first[0].ciphersuite, 1);
    EXPECT_EQ(first[1].ciphersuite, 2);
    EXPECT_EQ(first[2].ciphersuite, 7);
    EXPECT_EQ(first[1].public_key.scheme(),
              crypto::SignatureScheme::kEcdsaSecp256r1Sha256);
    EXPECT_TRUE((*store)->OldKeys().empty());
  }
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_EQ(Mode(dir / "keys.json"), 0600u);
  int pem_files = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ".pem") {
      ++pem_files;
      EXPECT_EQ(Mode(f.path()), 0600u) << f.path();
    }
  }
  EXPECT_EQ(pem_files, 3);

  clock.Advance(1000);
  auto again = DsKeyStore::Open(dir, {1, 2, 7}, clock);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto second = (*again)->CurrentKeys();
  ASSERT_EQ(second.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(second[i].public_key, first[i].public_key);
    EXPECT_EQ(second[i].key_id, first[i].key_id);
    EXPECT_EQ(second[i].created, first[i].created);
  }
  // The reloaded private key signs for the published public key.
  auto key = (*again)->SigningKeyFor(7);
  ASSERT_TRUE(key.ok());
  auto sig = crypto::SignWithLabel(**key, "MigrationResponse", ToBytes("x"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(crypto::VerifyWithLabel(first[2].public_key, "MigrationResponse",
                                      ToBytes("x"), *sig)
                  .ok());
  EXPECT_EQ((*again)->SigningKeyFor(3).status().code(), StatusCode::kNotFound);
}

TEST(DsKeyStoreTest,
     AddingASuiteKeepsExistingKeysAndUnconfiguredOnesStayOnDisk) {
  TempDir tmp;
  FakeClock clock;
  auto a = DsKeyStore::Open(tmp.path(), {1}, clock);
  ASSERT_TRUE(a.ok());
  DsPublicKey k1 = (*a)->CurrentKeys().at(0);
  a->reset();
  auto b = DsKeyStore::Open(tmp.path(), {2}, clock);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ((*b)->CurrentKeys().size(), 1u);
  EXPECT_EQ((*b)->CurrentKeys()[0].ciphersuite, 2);
  b->reset();
  auto c = DsKeyStore::Open(tmp.path(), {1, 2}, clock);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->CurrentKeys().at(0).public_key, k1.public_key);
}

TEST(DsKeyStoreTest, RotationSignsWithTheNewKeyAndKeepsTheOldOneUntilExpiry) {
  TempDir tmp;
  FakeClock clock;
  auto store = DsKeyStore::Open(tmp.path(), {1, 2}, clock);
  ASSERT_TRUE(store.ok());
  DsPublicKey old_key = (*store)->CurrentKeys().at(1);
  ASSERT_EQ(old_key.ciphersuite, 2);

  auto fresh = (*store)->Rotate(2, 60'000);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_NE(fresh->public_key, old_key.public_key);
  EXPECT_EQ((*store)->CurrentKeys().at(1).public_key, fresh->public_key);
  EXPECT_EQ((*store)->CurrentKeys().at(0).ciphersuite, 1);  // untouched
  auto signer = (*store)->SigningKeyFor(2);
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ((*signer)->public_key(), fresh->public_key);
  auto old = (*store)->OldKeys();
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].public_key, old_key.public_key);
  ASSERT_TRUE(old[0].expires.has_value());
  EXPECT_EQ(*old[0].expires, clock.NowMillis() + 60'000);

  // Survives a restart.
  store->reset();
  auto reopened = DsKeyStore::Open(tmp.path(), {1, 2}, clock);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->CurrentKeys().at(1).public_key, fresh->public_key);
  ASSERT_EQ((*reopened)->OldKeys().size(), 1u);

  // After the expiry the old key is gone from the store and from disk.
  clock.Advance(60'000);
  EXPECT_TRUE((*reopened)->OldKeys().empty());
  reopened->reset();
  auto later = DsKeyStore::Open(tmp.path(), {1, 2}, clock);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE((*later)->OldKeys().empty());
  int pem_files = 0;
  for (const auto& f : fs::directory_iterator(tmp.path())) {
    pem_files += f.path().extension() == ".pem";
  }
  EXPECT_EQ(pem_files, 2);

  EXPECT_EQ((*later)->Rotate(5, 1000).status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*later)->Rotate(1, -1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DsKeyStoreTest, OpenExistingNeitherCreatesNorGenerates) {
  TempDir tmp;
  FakeClock clock;
  EXPECT_EQ(DsKeyStore::OpenExisting(tmp / "none", clock).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(tmp / "none"));
  auto made = DsKeyStore::Open(tmp.path(), {4, 5}, clock);
  ASSERT_TRUE(made.ok());
  auto keys = (*made)->CurrentKeys();
  made->reset();
  auto existing = DsKeyStore::OpenExisting(tmp.path(), clock);
  ASSERT_TRUE(existing.ok()) << existing.status().ToString();
  EXPECT_EQ((*existing)->suites(), (std::vector<crypto::CipherSuiteId>{4, 5}));
  ASSERT_EQ((*existing)->CurrentKeys().size(), 2u);
  EXPECT_EQ((*existing)->CurrentKeys()[1].public_key, keys[1].public_key);
}

TEST(DsKeyStoreTest, RefusesKeyFilesOthersCanRead) {
  TempDir tmp;
  FakeClock clock;
  ASSERT_TRUE(DsKeyStore::Open(tmp.path(), {1}, clock).ok());
  for (const auto& f : fs::directory_iterator(tmp.path())) {
    if (f.path().extension() == ".pem") {
      fs::permissions(f.path(), fs::perms::group_read, fs::perm_options::add);
    }
  }
  auto s = DsKeyStore::Open(tmp.path(), {1}, clock);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().detail().find("640"), std::string::npos)
      << s.status().detail();
}

TEST(DsKeyStoreTest, DamagedManifestOrKeyIsAnErrorNotANewKey) {
  TempDir tmp;
  FakeClock clock;
  ASSERT_TRUE(DsKeyStore::Open(tmp.path(), {1}, clock).ok());
  const fs::path manifest = tmp / "keys.json";
  std::string original;
  {
    std::ifstream f(manifest);
    original.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto write = [&](const std::string& text) {
    std::ofstream f(manifest, std::ios::trunc);
    f << text;
  };
  write("{not json");
  EXPECT_EQ(DsKeyStore::Open(tmp.path(), {1}, clock).status().code(),
            StatusCode::kMalformed);
  // A key id that does not match the key file.
  std::string tampered = original;
  auto pos = tampered.find("\"key_id\": \"");
  ASSERT_NE(pos, std::string::npos);
  char& c = tampered[pos + 11];
  c = c == '0' ? '1' : '0';
  write(tampered);
  EXPECT_EQ(DsKeyStore::Open(tmp.path(), {1}, clock).status().code(),
            StatusCode::kMalformed);
  // A file name that leaves the directory.
  std::string escaping = original;
  pos = escaping.find("\"file\": \"");
  escaping.insert(pos + 9, "../");
  write(escaping);
  EXPECT_EQ(DsKeyStore::Open(tmp.path(), {1}, clock).status().code(),
            StatusCode::kMalformed);
  write(original);
  EXPECT_TRUE(DsKeyStore::Open(tmp.path(), {1}, clock).ok());
  EXPECT_EQ(DsKeyStore::Open(tmp.path(), {9}, clock).status().code(),
            StatusCode::kUnsupported);
}

}  // namespace
}  // namespace mimi::keys
