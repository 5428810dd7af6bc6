// Encoding and strict decoding of the protocol messages. Each struct has one
// Put (writer) and one Get (reader) routine taking the field path of the
// struct, so nested errors read "MigrationInit.migration_response.nonce".
// Signed structs' Put takes `with_signature`, which is how ToBeSigned stays
// byte-for-byte the prefix of Encode.
#include "mimi_portability/messages.h"

#include <string>

#include "codec/reader.h"
#include "codec/writer.h"
#include "mimi_portability/domain_name.h"

namespace mimi {
namespace {

using codec::FieldPath;
using codec::Reader;
using codec::Writer;

enum class Sig { kWith, kWithout };

// --- writers ---

void Put(Writer& w, const MigrationRequest& m, std::string_view p) {
  w.WriteOpaque(FieldPath(p, "source_domain_name"), m.source_domain_name);
  w.WriteOpaque(FieldPath(p, "target_domain_name"), m.target_domain_name);
  w.WriteOpaque(FieldPath(p, "group_id"), m.group_id);
  w.WriteU64(m.epoch);
}

void Put(Writer& w, const MigrationResponse& m, std::string_view p,
         Sig sig = Sig::kWith) {
  Put(w, m.migration_request, FieldPath(p, "migration_request"));
  w.WriteArray(m.nonce);
  if (sig == Sig::kWith) w.WriteOpaque(FieldPath(p, "signature"), m.signature);
}

void Put(Writer& w, const MigrationInit& m, std::string_view p,
         Sig sig = Sig::kWith) {
  Put(w, m.migration_response, FieldPath(p, "migration_response"));
  if (sig == Sig::kWith) w.WriteOpaque(FieldPath(p, "signature"), m.signature);
}

void Put(Writer& w, const MigrationCommitAAD& m, std::string_view p) {
  w.WriteOpaque(FieldPath(p, "target_ds_domain"), m.target_ds_domain);
}

void Put(Writer& w, const MigrationContent& m, std::string_view p,
         Sig sig = Sig::kWith) {
  w.Reserve(m.group_state.size() + 512);
  Put(w, m.migration_response, FieldPath(p, "migration_response"));
  w.WriteOpaque(FieldPath(p, "group_state"), m.group_state);
  if (sig == Sig::kWith) w.WriteOpaque(FieldPath(p, "signature"), m.signature);
}

void Put(Writer& w, const TargetMigrationComplete& m, std::string_view p,
         Sig sig = Sig::kWith) {
  w.WriteOpaque(FieldPath(p, "migration_content_hash"),
                m.migration_content_hash);
  if (sig == Sig::kWith) w.WriteOpaque(FieldPath(p, "signature"), m.signature);
}

void Put(Writer& w, const MigrationConfirmation& m, std::string_view p,
         Sig sig = Sig::kWith) {
  w.WriteOpaque(FieldPath(p, "domain_name"), m.domain_name);
  w.WriteArray(m.nonce);
  w.WriteOpaque(FieldPath(p, "group_id"), m.group_id);
  if (sig == Sig::kWith) w.WriteOpaque(FieldPath(p, "signature"), m.signature);
}

void Put(Writer& w, const MigrationInitRequest& m, std::string_view p) {
  w.Reserve(m.commit.size() + 512);
  Put(w, m.migration_init, FieldPath(p, "migration_init"));
  w.WriteU32(m.sender_leaf_index);
  w.WriteOpaque(FieldPath(p, "commit"), m.commit);
}

// MigrationAbort and MigrationAbortAck share a shape but not a meaning (or a
// signature label), so they stay distinct types.
template <typename NonceAndSignature>
void PutNonceAndSignature(Writer& w, const NonceAndSignature& m,
                          std::string_view p, Sig sig) {
  w.WriteArray(m.nonce);
  if (sig == Sig::kWith) w.WriteOpaque(FieldPath(p, "signature"), m.signature);
}
void Put(Writer& w, const MigrationAbort& m, std::string_view p,
         Sig sig = Sig::kWith) {
  PutNonceAndSignature(w, m, p, sig);
}
void Put(Writer& w, const MigrationAbortAck& m, std::string_view p,
         Sig sig = Sig::kWith) {
  PutNonceAndSignature(w, m, p, sig);
}

// --- readers ---

// Every domain field is checked as it is decoded, so no layer above sees a
// name that could not be a host name (docs/protocol.md §1.6): refused as
// kInvalidArgument "invalid-domain", the detail naming the field.
Status ReadDomain(Reader& r, const std::string& field, Bytes* out) {
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(field, out));
  return ValidateDomainName(
      std::string_view(reinterpret_cast<const char*>(out->data()), out->size()),
      field);
}

Status Get(Reader& r, std::string_view p, MigrationRequest* m) {
  MIMI_RETURN_IF_ERROR(
      ReadDomain(r, FieldPath(p, "source_domain_name"), &m->source_domain_name));
  MIMI_RETURN_IF_ERROR(
      ReadDomain(r, FieldPath(p, "target_domain_name"), &m->target_domain_name));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(p, "group_id"), &m->group_id));
  return r.ReadU64(FieldPath(p, "epoch"), &m->epoch);
}

Status Get(Reader& r, std::string_view p, MigrationResponse* m) {
  MIMI_RETURN_IF_ERROR(
      Get(r, FieldPath(p, "migration_request"), &m->migration_request));
  MIMI_RETURN_IF_ERROR(r.ReadArray(FieldPath(p, "nonce"), &m->nonce));
  return r.ReadOpaque(FieldPath(p, "signature"), &m->signature);
}

Status Get(Reader& r, std::string_view p, MigrationInit* m) {
  MIMI_RETURN_IF_ERROR(
      Get(r, FieldPath(p, "migration_response"), &m->migration_response));
  return r.ReadOpaque(FieldPath(p, "signature"), &m->signature);
}

Status Get(Reader& r, std::string_view p, MigrationCommitAAD* m) {
  return ReadDomain(r, FieldPath(p, "target_ds_domain"), &m->target_ds_domain);
}

Status Get(Reader& r, std::string_view p, MigrationContent* m) {
  MIMI_RETURN_IF_ERROR(
      Get(r, FieldPath(p, "migration_response"), &m->migration_response));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(FieldPath(p, "group_state"), &m->group_state));
  return r.ReadOpaque(FieldPath(p, "signature"), &m->signature);
}

Status Get(Reader& r, std::string_view p, TargetMigrationComplete* m) {
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(p, "migration_content_hash"),
                                    &m->migration_content_hash));
  return r.ReadOpaque(FieldPath(p, "signature"), &m->signature);
}

Status Get(Reader& r, std::string_view p, MigrationConfirmation* m) {
  MIMI_RETURN_IF_ERROR(
      ReadDomain(r, FieldPath(p, "domain_name"), &m->domain_name));
  MIMI_RETURN_IF_ERROR(r.ReadArray(FieldPath(p, "nonce"), &m->nonce));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(p, "group_id"), &m->group_id));
  return r.ReadOpaque(FieldPath(p, "signature"), &m->signature);
}

Status Get(Reader& r, std::string_view p, MigrationInitRequest* m) {
  MIMI_RETURN_IF_ERROR(
      Get(r, FieldPath(p, "migration_init"), &m->migration_init));
  MIMI_RETURN_IF_ERROR(
      r.ReadU32(FieldPath(p, "sender_leaf_index"), &m->sender_leaf_index));
  return r.ReadOpaque(FieldPath(p, "commit"), &m->commit);
}

template <typename NonceAndSignature>
Status GetNonceAndSignature(Reader& r, std::string_view p,
                            NonceAndSignature* m) {
  MIMI_RETURN_IF_ERROR(r.ReadArray(FieldPath(p, "nonce"), &m->nonce));
  return r.ReadOpaque(FieldPath(p, "signature"), &m->signature);
}
Status Get(Reader& r, std::string_view p, MigrationAbort* m) {
  return GetNonceAndSignature(r, p, m);
}
Status Get(Reader& r, std::string_view p, MigrationAbortAck* m) {
  return GetNonceAndSignature(r, p, m);
}

template <typename T>
Result<Bytes> EncodeWhole(const T& m) {
  Writer w;
  Put(w, m, MessageName<T>());
  return std::move(w).Finish();
}

template <typename T>
Result<Bytes> EncodeUnsigned(const T& m) {
  Writer w;
  Put(w, m, MessageName<T>(), Sig::kWithout);
  return std::move(w).Finish();
}

}  // namespace

template <typename T>
Result<T> Decode(ByteSpan bytes) {
  Reader r(bytes);
  T m;
  MIMI_RETURN_IF_ERROR(Get(r, MessageName<T>(), &m));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(MessageName<T>()));
  return m;
}

Result<MigrationContentView> DecodeMigrationContentView(ByteSpan bytes) {
  // Decode<MigrationContent>'s steps, field for field, borrowing the
  // opaque fields instead of copying them.
  constexpr std::string_view p = MessageName<MigrationContent>();
  Reader r(bytes);
  MigrationContentView m;
  MIMI_RETURN_IF_ERROR(
      Get(r, FieldPath(p, "migration_response"), &m.migration_response));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaqueView(FieldPath(p, "group_state"), &m.group_state));
  m.tbs = bytes.first(r.position());
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView(FieldPath(p, "signature"), &m.signature));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(p));
  return m;
}

std::optional<uint16_t> PeekMigrationContentSuite(ByteSpan prefix) {
  Reader r(prefix);
  MigrationResponse response;
  uint64_t length = 0;
  uint16_t version = 0;
  uint16_t suite = 0;
  if (!Get(r, "", &response).ok() || !r.ReadVarint("", &length).ok() ||
      !r.ReadU16("", &version).ok() || !r.ReadU16("", &suite).ok()) {
    return std::nullopt;
  }
  return suite;
}

#define MIMI_MESSAGE(T)                                           \
  Result<Bytes> Encode(const T& m) { return EncodeWhole(m); }     \
  template Result<T> Decode<T>(ByteSpan bytes);
#define MIMI_SIGNED_MESSAGE(T) \
  MIMI_MESSAGE(T)              \
  Result<Bytes> ToBeSigned(const T& m) { return EncodeUnsigned(m); }

MIMI_MESSAGE(MigrationRequest)
MIMI_SIGNED_MESSAGE(MigrationResponse)
MIMI_SIGNED_MESSAGE(MigrationInit)
MIMI_MESSAGE(MigrationCommitAAD)
MIMI_SIGNED_MESSAGE(MigrationContent)
MIMI_SIGNED_MESSAGE(TargetMigrationComplete)
MIMI_SIGNED_MESSAGE(MigrationConfirmation)
MIMI_MESSAGE(MigrationInitRequest)
MIMI_SIGNED_MESSAGE(MigrationAbort)
MIMI_SIGNED_MESSAGE(MigrationAbortAck)

#undef MIMI_SIGNED_MESSAGE
#undef MIMI_MESSAGE

}  // namespace mimi
