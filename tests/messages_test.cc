// Known-answer vectors for every wire message, and properties of the strict
// decoder checked over all of them.
//
// Each vector is written by hand, field by field, as a list of Fields: the
// path of the field (as error details name it), whether it is a fixed-size
// field or a vector, and its hex (for a vector: the varint length, then the
// bytes). This one description gives the expected encoding, the expected
// ToBeSigned (every field but the trailing signature) and, for any cut or
// corruption, the exact error the decoder must report.
#include "mimi_portability/messages.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "fuzz/fuzz_checks.h"
#include "mimi_portability/bytes.h"
#include "testing/test_bytes.h"

namespace mimi {
namespace {

using ::mimi::testing::Hex;
using ::mimi::testing::Seq;

Nonce SeqNonce(uint8_t first) {
  Nonce n;
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(first + i);
  return n;
}

enum class Kind { kFixed, kVector };

struct Field {
  std::string path;  // relative until Nest()ed under its struct
  Kind kind;
  std::string hex;
};
using Fields = std::vector<Field>;

Fields Nest(const std::string& prefix, Fields fields) {
  for (auto& f : fields) f.path = prefix + "." + f.path;
  return fields;
}

Fields Concat(std::initializer_list<Fields> parts) {
  Fields out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes Join(const Fields& fields, size_t count) {
  Bytes out;
  for (size_t i = 0; i < count; ++i) {
    Bytes b = Hex(fields[i].hex);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}
Bytes Join(const Fields& fields) { return Join(fields, fields.size()); }

// --- the field values, shared by the vectors ---

// The hex below is laid out field by field on purpose.
// clang-format off

// "source.test" is 11 bytes: varint 0x0b, then the ASCII.
const char kSourceDomainHex[] = "0b" "736f757263652e74657374";
// "target.test", likewise.
const char kTargetDomainHex[] = "0b" "7461726765742e74657374";
// A 16-byte group id 10 11 .. 1f: varint 0x10.
const char kGroupIdHex[] = "10" "101112131415161718191a1b1c1d1e1f";
// epoch 123456 = 0x1e240 as a big-endian uint64.
const char kEpochHex[] = "000000000001e240";
// The nonce: 32 bytes 20 21 .. 3f, no length prefix.
const char kNonceHex[] =
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
// 64-byte signatures: 64 >= 64 needs the 2-byte varint 0x4000 | 64 = 40 40.
// The client's: 40 41 .. 7f.
const char kClientSigHex[] =
    "4040"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f";
// The source DS's: 80 81 .. bf.
const char kSourceSigHex[] =
    "4040"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
// The target DS's: c0 c1 .. ff.
const char kTargetSigHex[] =
    "4040"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
// A 100-byte group state 00 01 .. 63: 2-byte varint 0x4000 | 100 = 40 64.
const char kGroupStateHex[] =
    "4064"
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "60616263";
// SHA-256 of the MigrationContent vector below (computed offline; the codec
// does not care, but the value is the real one): varint 0x20, 32 bytes.
const char kContentHashHex[] =
    "20"
    "1da1c74686869a7474804725438498e98149ef851412ccf29b704d5bf2e4c5ae";
// The commit: a PublicMessage MLSMessage (RFC 9420 §6), 182 bytes, so the
// varint is 0x4000 | 182 = 40 b6:
//   0001 version mls10, 0001 wire_format mls_public_message,
//   10 <group id>, 000000000001e240 epoch,
//   01 sender_type member, 00000003 leaf_index,
//   0c authenticated_data = MigrationCommitAAD{0b "target.test"},
//   03 content_type commit, 00 proposals<V>, 00 path absent,
//   4040 <64-byte signature ee..>, 20 <confirmation_tag cc..>,
//   20 <membership_tag dd..>.
const char kCommitHex[] =
    "40b6"
    "0001" "0001" "10101112131415161718191a1b1c1d1e1f" "000000000001e240"
    "01" "00000003" "0c" "0b7461726765742e74657374" "03" "00" "00"
    "4040"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "20" "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
    "20" "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

// clang-format on

// The commit itself: the vector above without its 2-byte length.
Bytes CommitBytes() {
  const Bytes with_length = Hex(kCommitHex);
  return Bytes(with_length.begin() + 2, with_length.end());
}

// 20000 bytes (i mod 256): past 16383, so the 4-byte varint
// 0x80000000 | 20000 = 80 00 4e 20 is needed.
constexpr size_t kLargeSize = 20000;
std::string LargeGroupStateHex() {
  return "80004e20" + ToHex(Seq(0, kLargeSize));
}

// --- the struct values and their vectors ---

MigrationRequest RequestValue() {
  return {ToBytes("source.test"), ToBytes("target.test"), Seq(0x10, 16),
          123456};
}
// 1 + 11 + 1 + 11 + 1 + 16 + 8 = 49 bytes.
Fields RequestFields() {
  return {{"source_domain_name", Kind::kVector, kSourceDomainHex},
          {"target_domain_name", Kind::kVector, kTargetDomainHex},
          {"group_id", Kind::kVector, kGroupIdHex},
          {"epoch", Kind::kFixed, kEpochHex}};
}

MigrationResponse ResponseValue() {
  return {RequestValue(), SeqNonce(0x20), Seq(0xc0, 64)};
}
// 49 + 32 + 2 + 64 = 147 bytes.
Fields ResponseFields() {
  return Concat({Nest("migration_request", RequestFields()),
                 {{"nonce", Kind::kFixed, kNonceHex},
                  {"signature", Kind::kVector, kTargetSigHex}}});
}

MigrationInit InitValue() { return {ResponseValue(), Seq(0x40, 64)}; }
// 147 + 2 + 64 = 213 bytes.
Fields InitFields() {
  return Concat({Nest("migration_response", ResponseFields()),
                 {{"signature", Kind::kVector, kClientSigHex}}});
}

MigrationCommitAAD CommitAadValue() { return {ToBytes("target.test")}; }
Fields CommitAadFields() {
  return {{"target_ds_domain", Kind::kVector, kTargetDomainHex}};
}

MigrationContent ContentValue() {
  return {ResponseValue(), Seq(0, 100), Seq(0x80, 64)};
}
// 147 + 2 + 100 + 2 + 64 = 315 bytes.
Fields ContentFields() {
  return Concat({Nest("migration_response", ResponseFields()),
                 {{"group_state", Kind::kVector, kGroupStateHex},
                  {"signature", Kind::kVector, kSourceSigHex}}});
}

MigrationContent LargeContentValue() {
  return {ResponseValue(), Seq(0, kLargeSize), Seq(0x80, 64)};
}
Fields LargeContentFields() {
  return Concat({Nest("migration_response", ResponseFields()),
                 {{"group_state", Kind::kVector, LargeGroupStateHex()},
                  {"signature", Kind::kVector, kSourceSigHex}}});
}

TargetMigrationComplete CompleteValue() {
  return {
      Hex("1da1c74686869a7474804725438498e98149ef851412ccf29b704d5bf2e4c5ae"),
      Seq(0xc0, 64)};
}
// 1 + 32 + 2 + 64 = 99 bytes.
Fields CompleteFields() {
  return {{"migration_content_hash", Kind::kVector, kContentHashHex},
          {"signature", Kind::kVector, kTargetSigHex}};
}

MigrationConfirmation ConfirmationValue() {
  return {ToBytes("target.test"), SeqNonce(0x20), Seq(0x10, 16), Seq(0x80, 64)};
}
// 12 + 32 + 17 + 66 = 127 bytes.
Fields ConfirmationFields() {
  return {{"domain_name", Kind::kVector, kTargetDomainHex},
          {"nonce", Kind::kFixed, kNonceHex},
          {"group_id", Kind::kVector, kGroupIdHex},
          {"signature", Kind::kVector, kSourceSigHex}};
}

MigrationInitRequest InitRequestValue() {
  return {InitValue(), 3, CommitBytes()};
}
// 213 + 4 + 2 + 182 = 401 bytes.
Fields InitRequestFields() {
  return Concat({Nest("migration_init", InitFields()),
                 {{"sender_leaf_index", Kind::kFixed, "00000003"},
                  {"commit", Kind::kVector, kCommitHex}}});
}

MigrationAbort AbortValue() { return {SeqNonce(0x20), Seq(0x80, 64)}; }
// 32 + 2 + 64 = 98 bytes.
Fields AbortFields() {
  return {{"nonce", Kind::kFixed, kNonceHex},
          {"signature", Kind::kVector, kSourceSigHex}};
}

MigrationAbortAck AbortAckValue() { return {SeqNonce(0x20), Seq(0xc0, 64)}; }
Fields AbortAckFields() {
  return {{"nonce", Kind::kFixed, kNonceHex},
          {"signature", Kind::kVector, kTargetSigHex}};
}

// Edge values: every vector empty but the domain names (the shortest valid
// ones: an empty name is refused as it is decoded), the largest integers.
MigrationRequest EmptyRequestValue() {
  return {{'a'}, {'b'}, {}, 0xffffffffffffffffu};
}
Fields EmptyRequestFields() {
  return {{"source_domain_name", Kind::kVector, "0161"},
          {"target_domain_name", Kind::kVector, "0162"},
          {"group_id", Kind::kVector, "00"},
          {"epoch", Kind::kFixed, "ffffffffffffffff"}};
}
MigrationInitRequest EmptyInitRequestValue() {
  MigrationInitRequest m;
  m.migration_init.migration_response.migration_request.source_domain_name = {'a'};
  m.migration_init.migration_response.migration_request.target_domain_name = {'b'};
  m.migration_init.migration_response.migration_request.epoch = 0;
  m.sender_leaf_index = 0xffffffffu;
  return m;
}
Fields EmptyInitRequestFields() {
  Fields request = {{"source_domain_name", Kind::kVector, "0161"},
                    {"target_domain_name", Kind::kVector, "0162"},
                    {"group_id", Kind::kVector, "00"},
                    {"epoch", Kind::kFixed, "0000000000000000"}};
  Fields response = Concat({Nest("migration_request", request),
                            {{"nonce", Kind::kFixed, std::string(64, '0')},
                             {"signature", Kind::kVector, "00"}}});
  Fields init = Concat({Nest("migration_response", response),
                        {{"signature", Kind::kVector, "00"}}});
  return Concat({Nest("migration_init", init),
                 {{"sender_leaf_index", Kind::kFixed, "ffffffff"},
                  {"commit", Kind::kVector, "00"}}});
}

// --- known-answer checks ---

template <typename T>
void ExpectKnownAnswer(const T& value, const Fields& relative) {
  const std::string name(MessageName<T>());
  const Fields fields = Nest(name, relative);
  const Bytes want = Join(fields);

  auto encoded = Encode(value);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(ToHex(*encoded), ToHex(want)) << name;

  auto decoded = Decode<T>(want);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(*decoded == value) << name;

  if constexpr (requires(const T& m) { ToBeSigned(m); }) {
    ASSERT_TRUE(fields.back().path.ends_with(".signature"));
    auto tbs = ToBeSigned(value);
    ASSERT_TRUE(tbs.ok()) << tbs.status().ToString();
    EXPECT_EQ(ToHex(*tbs), ToHex(Join(fields, fields.size() - 1))) << name;
  }
}

TEST(MessagesKatTest, MigrationRequest) {
  ExpectKnownAnswer(RequestValue(), RequestFields());
  EXPECT_EQ(Join(RequestFields()).size(), 49u);
}
TEST(MessagesKatTest, MigrationResponse) {
  ExpectKnownAnswer(ResponseValue(), ResponseFields());
  EXPECT_EQ(Join(ResponseFields()).size(), 147u);
}
TEST(MessagesKatTest, MigrationInit) {
  ExpectKnownAnswer(InitValue(), InitFields());
  EXPECT_EQ(Join(InitFields()).size(), 213u);
}
TEST(MessagesKatTest, MigrationCommitAAD) {
  ExpectKnownAnswer(CommitAadValue(), CommitAadFields());
  EXPECT_EQ(ToHex(*Encode(CommitAadValue())), "0b7461726765742e74657374");
}
TEST(MessagesKatTest, MigrationContent) {
  ExpectKnownAnswer(ContentValue(), ContentFields());
  EXPECT_EQ(Join(ContentFields()).size(), 315u);
}
TEST(MessagesKatTest, MigrationContentWithFourByteVarint) {
  ExpectKnownAnswer(LargeContentValue(), LargeContentFields());
  Bytes encoded = *Encode(LargeContentValue());
  // 147 bytes of MigrationResponse, then the 4-byte length.
  EXPECT_EQ(ToHex(ByteSpan(encoded).subspan(147, 4)), "80004e20");
  EXPECT_EQ(encoded.size(), 147u + 4 + kLargeSize + 66);
}
TEST(MessagesKatTest, TargetMigrationComplete) {
  ExpectKnownAnswer(CompleteValue(), CompleteFields());
  EXPECT_EQ(Join(CompleteFields()).size(), 99u);
}
TEST(MessagesKatTest, MigrationConfirmation) {
  ExpectKnownAnswer(ConfirmationValue(), ConfirmationFields());
  EXPECT_EQ(Join(ConfirmationFields()).size(), 127u);
}
TEST(MessagesKatTest, MigrationInitRequest) {
  ExpectKnownAnswer(InitRequestValue(), InitRequestFields());
  EXPECT_EQ(CommitBytes().size(), 182u);
  EXPECT_EQ(Join(InitRequestFields()).size(), 401u);
}
TEST(MessagesKatTest, MigrationAbort) {
  ExpectKnownAnswer(AbortValue(), AbortFields());
  EXPECT_EQ(Join(AbortFields()).size(), 98u);
}
TEST(MessagesKatTest, MigrationAbortAck) {
  ExpectKnownAnswer(AbortAckValue(), AbortAckFields());
}
TEST(MessagesKatTest, EmptyFieldsAndLargestIntegers) {
  ExpectKnownAnswer(EmptyRequestValue(), EmptyRequestFields());
  ExpectKnownAnswer(EmptyInitRequestValue(), EmptyInitRequestFields());
}

// Every domain field is checked as it is decoded: a name that is not an
// ASCII LDH host name (here invalid UTF-8, which once reached a JSON reply
// and aborted the daemon) is refused with the stable reason, naming the
// field.
TEST(MessagesDomainTest, EveryDomainFieldIsValidatedAtDecode) {
  const Bytes bad = {0xff, 0xfe};
  MigrationRequest request = RequestValue();
  request.source_domain_name = bad;
  auto decoded = Decode<MigrationRequest>(*Encode(request));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decoded.status().reason(), "invalid-domain");
  EXPECT_NE(decoded.status().detail().find("MigrationRequest.source_domain_name"),
            std::string::npos)
      << decoded.status().detail();
  // The detail is printable: the bytes are escaped.
  EXPECT_NE(decoded.status().detail().find("\\xff\\xfe"), std::string::npos)
      << decoded.status().detail();

  request = RequestValue();
  request.target_domain_name = ToBytes("bad_name.test");
  decoded = Decode<MigrationRequest>(*Encode(request));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().reason(), "invalid-domain");
  EXPECT_NE(decoded.status().detail().find("target_domain_name"), std::string::npos);

  MigrationInitRequest init = InitRequestValue();
  init.migration_init.migration_response.migration_request.source_domain_name = bad;
  auto init_decoded = Decode<MigrationInitRequest>(*Encode(init));
  ASSERT_FALSE(init_decoded.ok());
  EXPECT_EQ(init_decoded.status().reason(), "invalid-domain");
  EXPECT_NE(init_decoded.status().detail().find(
                "MigrationInitRequest.migration_init.migration_response."
                "migration_request.source_domain_name"),
            std::string::npos)
      << init_decoded.status().detail();

  MigrationCommitAAD aad = CommitAadValue();
  aad.target_ds_domain = ToBytes("-x.test");
  auto aad_decoded = Decode<MigrationCommitAAD>(*Encode(aad));
  ASSERT_FALSE(aad_decoded.ok());
  EXPECT_EQ(aad_decoded.status().reason(), "invalid-domain");

  MigrationConfirmation confirmation = ConfirmationValue();
  confirmation.domain_name = ToBytes(std::string(254, 'a'));
  auto conf_decoded = Decode<MigrationConfirmation>(*Encode(confirmation));
  ASSERT_FALSE(conf_decoded.ok());
  EXPECT_EQ(conf_decoded.status().reason(), "invalid-domain");
}

TEST(MessagesKatTest, AbortAndAbortAckHaveDistinctLabels) {
  EXPECT_EQ(SignatureLabel<MigrationAbort>(), "MigrationAbort");
  EXPECT_EQ(SignatureLabel<MigrationAbortAck>(), "MigrationAbortAck");
  EXPECT_EQ(SignatureLabel<MigrationResponse>(), "MigrationResponse");
}

// --- properties over every vector ---

struct Case {
  std::string label;
  std::string type;
  Fields fields;  // full paths
  std::function<Status(ByteSpan)> decode;
  std::function<std::string(ByteSpan, bool*)> check;
};

// Test names and failure messages show the label, not the object's bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

template <typename T>
Case MakeCase(std::string label, const Fields& relative) {
  const std::string type(MessageName<T>());
  return {std::move(label), type, Nest(type, relative),
          [](ByteSpan b) { return Decode<T>(b).status(); },
          [](ByteSpan b, bool* accepted) {
            return fuzz::CheckMessage<T>(b, accepted);
          }};
}

const std::vector<Case>& AllCases() {
  static const auto* kCases = new std::vector<Case>{
      MakeCase<MigrationRequest>("MigrationRequest", RequestFields()),
      MakeCase<MigrationRequest>("MigrationRequest-empty",
                                 EmptyRequestFields()),
      MakeCase<MigrationResponse>("MigrationResponse", ResponseFields()),
      MakeCase<MigrationInit>("MigrationInit", InitFields()),
      MakeCase<MigrationCommitAAD>("MigrationCommitAAD", CommitAadFields()),
      MakeCase<MigrationContent>("MigrationContent", ContentFields()),
      MakeCase<MigrationContent>("MigrationContent-large",
                                 LargeContentFields()),
      MakeCase<TargetMigrationComplete>("TargetMigrationComplete",
                                        CompleteFields()),
      MakeCase<MigrationConfirmation>("MigrationConfirmation",
                                      ConfirmationFields()),
      MakeCase<MigrationInitRequest>("MigrationInitRequest",
                                     InitRequestFields()),
      MakeCase<MigrationInitRequest>("MigrationInitRequest-empty",
                                     EmptyInitRequestFields()),
      MakeCase<MigrationAbort>("MigrationAbort", AbortFields()),
      MakeCase<MigrationAbortAck>("MigrationAbortAck", AbortAckFields()),
  };
  return *kCases;
}

size_t VarintSize(uint8_t first) { return size_t{1} << (first >> 6); }

// Where each field lies in the encoding: its size and its varint's size
// (0 for a fixed field).
struct Span {
  std::string path;
  size_t size;
  size_t varint;
};
std::vector<Span> Layout(const Fields& fields) {
  std::vector<Span> out;
  for (const auto& f : fields) {
    const Bytes b = Hex(f.hex);
    out.push_back(
        {f.path, b.size(), f.kind == Kind::kVector ? VarintSize(b[0]) : 0});
  }
  return out;
}

// What the decoder must say when the input stops after `cut` bytes: the
// field the cut falls in, "truncated" if it falls in a fixed field or a
// varint, else the vector's length against the bytes left.
std::string ExpectedTruncation(const std::vector<Span>& layout, size_t cut) {
  size_t start = 0;
  for (const auto& f : layout) {
    if (cut < start + f.size) {
      if (f.varint == 0 || cut < start + f.varint) {
        return f.path + ": truncated";
      }
      return f.path + ": length " + std::to_string(f.size - f.varint) +
             " exceeds the " + std::to_string(cut - start - f.varint) +
             " bytes left";
    }
    start += f.size;
  }
  return "(cut past the end)";
}

class MessagesPropertyTest : public ::testing::TestWithParam<Case> {};

TEST_P(MessagesPropertyTest, EveryTruncationIsRejectedNamingTheField) {
  const Case& c = GetParam();
  const Bytes full = Join(c.fields);
  const std::vector<Span> layout = Layout(c.fields);
  for (size_t cut = 0; cut < full.size(); ++cut) {
    Status s = c.decode(ByteSpan(full).first(cut));
    const std::string want = ExpectedTruncation(layout, cut);
    if (s.code() != StatusCode::kMalformed || s.detail() != want) {
      ADD_FAILURE() << c.label << " cut at " << cut << ": got " << s.ToString()
                    << ", want malformed: " << want;
      return;
    }
  }
}

TEST_P(MessagesPropertyTest, EveryTrailingByteCountIsRejected) {
  const Case& c = GetParam();
  const Bytes full = Join(c.fields);
  for (size_t extra : {1, 2, 3, 7, 8, 31, 32, 63, 64, 65, 1000, 20000}) {
    for (uint8_t fill : {0x00, 0xff}) {
      Bytes b = full;
      b.insert(b.end(), extra, fill);
      Status s = c.decode(b);
      EXPECT_EQ(s.code(), StatusCode::kMalformed);
      EXPECT_EQ(s.detail(),
                c.type + ": " + std::to_string(extra) + " trailing bytes")
          << c.label;
    }
  }
  // A second whole message is trailing bytes too.
  Bytes twice = full;
  twice.insert(twice.end(), full.begin(), full.end());
  EXPECT_EQ(c.decode(twice).detail(),
            c.type + ": " + std::to_string(full.size()) + " trailing bytes");
}

// Replaces the varint of vector field `index` by `varint_hex`.
Bytes WithVarint(const Fields& fields, size_t index,
                 const std::string& varint_hex) {
  Fields changed = fields;
  const Bytes b = Hex(fields[index].hex);
  changed[index].hex =
      varint_hex + ToHex(ByteSpan(b).subspan(VarintSize(b[0])));
  return Join(changed);
}

TEST_P(MessagesPropertyTest, NonMinimalLengthIsRejectedNamingTheField) {
  const Case& c = GetParam();
  int checked = 0;
  for (size_t i = 0; i < c.fields.size(); ++i) {
    if (c.fields[i].kind != Kind::kVector) continue;
    const Bytes b = Hex(c.fields[i].hex);
    const size_t len = b.size() - VarintSize(b[0]);
    std::string longer;
    if (len < 64) {
      longer = ToHex(Bytes{0x40, static_cast<uint8_t>(len)});
    } else if (len < 16384) {
      longer = ToHex(Bytes{0x80, 0x00, static_cast<uint8_t>(len >> 8),
                           static_cast<uint8_t>(len)});
    } else {
      continue;  // the 4-byte form is the longest there is
    }
    Status s = c.decode(WithVarint(c.fields, i, longer));
    EXPECT_EQ(s.code(), StatusCode::kMalformed);
    EXPECT_EQ(s.detail(), c.fields[i].path + ": non-minimal varint") << c.label;
    ++checked;
  }
  EXPECT_GT(checked, 0) << c.label;
}

TEST_P(MessagesPropertyTest, PrefixElevenIsRejectedNamingTheField) {
  const Case& c = GetParam();
  for (size_t i = 0; i < c.fields.size(); ++i) {
    if (c.fields[i].kind != Kind::kVector) continue;
    const Bytes b = Hex(c.fields[i].hex);
    Bytes varint(b.begin(), b.begin() + VarintSize(b[0]));
    varint[0] |= 0xc0;
    Status s = c.decode(WithVarint(c.fields, i, ToHex(varint)));
    EXPECT_EQ(s.code(), StatusCode::kMalformed);
    EXPECT_EQ(s.detail(), c.fields[i].path + ": invalid varint prefix 0b11")
        << c.label;
  }
}

// Flipping any bits of any byte either gives an error naming the struct or
// a message that re-encodes to exactly the flipped bytes.
TEST_P(MessagesPropertyTest, ByteFlipsDecodeCleanlyOrRoundTrip) {
  const Case& c = GetParam();
  const Bytes full = Join(c.fields);
  size_t accepted = 0;
  size_t rejected = 0;
  // Every byte of the 20000-byte vector gets one flip, not four, to keep the
  // suite quick under sanitizers; its payload bytes all take the same path.
  const std::vector<uint8_t> masks =
      full.size() > 4096 ? std::vector<uint8_t>{0xff}
                         : std::vector<uint8_t>{0x01, 0x40, 0x80, 0xff};
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t mask : masks) {
      Bytes b = full;
      b[i] ^= mask;
      bool ok = false;
      const std::string violation = c.check(b, &ok);
      if (!violation.empty()) {
        ADD_FAILURE() << c.label << " byte " << i << " ^ " << int{mask} << ": "
                      << violation;
        return;
      }
      (ok ? accepted : rejected)++;
    }
  }
  // Flips in payload bytes decode; flips in length bytes do not.
  EXPECT_GT(accepted, 0u) << c.label;
  EXPECT_GT(rejected, 0u) << c.label;
}

TEST_P(MessagesPropertyTest, VectorPassesTheFuzzCheck) {
  const Case& c = GetParam();
  EXPECT_EQ(c.check(Join(c.fields), nullptr), "");
  EXPECT_TRUE(c.decode(Join(c.fields)).ok());
}

INSTANTIATE_TEST_SUITE_P(AllVectors, MessagesPropertyTest,
                         ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           std::string name = param_info.param.label;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// --- exact error strings for representative cases ---

Status DecodeStatusOfCut(const std::string& type, const Fields& rel,
                         size_t cut) {
  for (const auto& c : AllCases()) {
    if (c.label == type) {
      const Bytes full = Join(Nest(type, rel));
      return c.decode(ByteSpan(full).first(cut));
    }
  }
  return InternalError("no case " + type);
}

TEST(MessagesErrorTest, RepresentativeDetails) {
  // Cut 10 bytes into the nonce (the request takes 49).
  EXPECT_EQ(DecodeStatusOfCut("MigrationResponse", ResponseFields(), 59),
            MalformedError("MigrationResponse.nonce: truncated"));
  // Cut 3 bytes into the epoch (it starts at byte 41).
  EXPECT_EQ(DecodeStatusOfCut("MigrationInit", InitFields(), 44),
            MalformedError(
                "MigrationInit.migration_response.migration_request.epoch: "
                "truncated"));
  // Empty input: the first field's varint is missing.
  EXPECT_EQ(DecodeStatusOfCut("MigrationRequest", RequestFields(), 0),
            MalformedError("MigrationRequest.source_domain_name: truncated"));
  // Only the first byte of group_state's 2-byte varint (it starts at 147).
  EXPECT_EQ(DecodeStatusOfCut("MigrationContent", ContentFields(), 148),
            MalformedError("MigrationContent.group_state: truncated"));
  // group_state's length present, one byte of body missing.
  EXPECT_EQ(
      DecodeStatusOfCut("MigrationContent", ContentFields(), 248),
      MalformedError("MigrationContent.group_state: length 100 exceeds the 99 "
                     "bytes left"));
  // Everything but the last byte of the commit.
  EXPECT_EQ(DecodeStatusOfCut("MigrationInitRequest", InitRequestFields(), 400),
            MalformedError(
                "MigrationInitRequest.commit: length 182 exceeds the 181 bytes "
                "left"));
  EXPECT_EQ(
      Decode<MigrationAbortAck>(Hex(std::string(kNonceHex) + "4040")).status(),
      MalformedError(
          "MigrationAbortAck.signature: length 64 exceeds the 0 bytes "
          "left"));
  EXPECT_EQ(
      Decode<MigrationCommitAAD>(Hex("0b7461726765742e7465737400")).status(),
      MalformedError("MigrationCommitAAD: 1 trailing bytes"));
  EXPECT_EQ(
      Decode<MigrationConfirmation>(Hex("400b7461726765742e74657374")).status(),
      MalformedError("MigrationConfirmation.domain_name: non-minimal varint"));
  EXPECT_EQ(Decode<TargetMigrationComplete>(Hex("e0")).status(),
            MalformedError("TargetMigrationComplete.migration_content_hash: "
                           "invalid varint prefix 0b11"));
  // A length of 2^30 - 1 is refused before anything is allocated.
  EXPECT_EQ(
      Decode<MigrationContent>(Hex(std::string(kSourceDomainHex) +
                                   kTargetDomainHex + kGroupIdHex + kEpochHex +
                                   kNonceHex + kTargetSigHex + "bfffffff"))
          .status(),
      MalformedError("MigrationContent.group_state: length 1073741823 "
                     "exceeds the 0 bytes left"));
}

// The shared check must catch each kind of broken decoder, or the fuzzers
// and the corpus replay would pass vacuously.
TEST(FuzzCheckTest, DetectsBrokenDecoders) {
  const Bytes input = Join(Nest("MigrationAbort", AbortFields()));
  auto decode = [](ByteSpan b) { return Decode<MigrationAbort>(b); };
  auto encode = [](const MigrationAbort& m) { return Encode(m); };
  bool accepted = false;
  EXPECT_EQ(
      fuzz::CheckRoundTrip("MigrationAbort", input, decode, encode, &accepted),
      "");
  EXPECT_TRUE(accepted);

  // Re-encoding that loses a byte.
  auto lossy = [](const MigrationAbort& m) {
    Bytes b = Encode(m).value();
    b.pop_back();
    return Result<Bytes>(b);
  };
  EXPECT_NE(fuzz::CheckRoundTrip("MigrationAbort", input, decode, lossy), "");
  // Re-encoding that fails.
  auto failing = [](const MigrationAbort&) {
    return Result<Bytes>(InternalError("no"));
  };
  EXPECT_NE(fuzz::CheckRoundTrip("MigrationAbort", input, decode, failing), "");
  // Rejection with the wrong code, or a detail that names another struct.
  auto wrong_code = [](ByteSpan) {
    return Result<MigrationAbort>(InvalidArgumentError("MigrationAbort.nonce"));
  };
  EXPECT_NE(fuzz::CheckRoundTrip("MigrationAbort", input, wrong_code, encode),
            "");
  auto wrong_name = [](ByteSpan) {
    return Result<MigrationAbort>(MalformedError("MigrationAbortAck.nonce: x"));
  };
  EXPECT_NE(fuzz::CheckRoundTrip("MigrationAbort", input, wrong_name, encode),
            "");
  accepted = true;
  auto right_name = [](ByteSpan) {
    return Result<MigrationAbort>(
        MalformedError("MigrationAbort: 1 trailing bytes"));
  };
  EXPECT_EQ(fuzz::CheckRoundTrip("MigrationAbort", input, right_name, encode,
                                 &accepted),
            "");
  EXPECT_FALSE(accepted);
}

TEST(FuzzCheckTest, DetectsToBeSignedThatIsNotThePrefix) {
  const Bytes input = Join(Nest("MigrationAbort", AbortFields()));
  MigrationAbort m = AbortValue();
  EXPECT_EQ(fuzz::CheckToBeSigned(ByteSpan(input), m), "");
  m.signature.pop_back();  // the input's signature is no longer m's
  EXPECT_NE(fuzz::CheckToBeSigned(ByteSpan(input), m), "");
  Bytes longer = input;
  longer.push_back(0);
  EXPECT_NE(fuzz::CheckToBeSigned(ByteSpan(longer), AbortValue()), "");
}

void WriteFile(const std::filesystem::path& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()),
             static_cast<std::streamsize>(b.size()));
}

// With MIMI_WRITE_FUZZ_SEEDS=<dir>, writes every vector and a few mutants of
// it (cut in half, each kind of bad length, a trailing byte) to
// <dir>/<Type>/, the seeds of the fuzz corpora (tests/fuzz/README.md).
TEST(MessagesSeedTest, WriteFuzzSeedsOnRequest) {
  const char* dir = std::getenv("MIMI_WRITE_FUZZ_SEEDS");
  if (dir == nullptr) GTEST_SKIP() << "MIMI_WRITE_FUZZ_SEEDS not set";
  for (const auto& c : AllCases()) {
    const auto type_dir = std::filesystem::path(dir) / c.type;
    std::filesystem::create_directories(type_dir);
    const Bytes full = Join(c.fields);
    WriteFile(type_dir / ("kat-" + c.label), full);
    WriteFile(type_dir / ("half-" + c.label),
              Bytes(full.begin(), full.begin() + full.size() / 2));
    Bytes trailing = full;
    trailing.push_back(0);
    WriteFile(type_dir / ("trailing-" + c.label), trailing);
    for (size_t i = 0; i < c.fields.size(); ++i) {
      if (c.fields[i].kind != Kind::kVector) continue;
      const Bytes b = Hex(c.fields[i].hex);
      const std::string rest = ToHex(ByteSpan(b).subspan(VarintSize(b[0])));
      Fields changed = c.fields;
      changed[i].hex = "80000000" + rest;  // non-minimal
      WriteFile(type_dir / ("nonminimal-" + std::to_string(i) + "-" + c.label),
                Join(changed));
      changed[i].hex = "bfffffff" + rest;  // huge length
      WriteFile(type_dir / ("huge-" + std::to_string(i) + "-" + c.label),
                Join(changed));
      changed[i].hex = "c0" + rest;  // prefix 0b11
      WriteFile(type_dir / ("prefix11-" + std::to_string(i) + "-" + c.label),
                Join(changed));
    }
  }
}

}  // namespace
}  // namespace mimi
