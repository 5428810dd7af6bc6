// The wire messages of MIMI Portability (draft-kohbrok-mimi-portability-06)
// and the three additions of this project's profile (docs/protocol.md §1.3).
//
// Each struct mirrors the draft's TLS-language definition, quoted above it,
// field for field and in the same order. Encode() serializes; Decode<T>()
// parses strictly (truncation, bad or non-minimal varints, and trailing bytes
// are errors that name the struct and field) and never returns a partial
// object. ToBeSigned() gives the bytes a struct's signature covers: the
// serialization of every field before `signature` (docs/protocol.md §1.4).
// SignatureLabel<T>() is the label passed to SignWithLabel.
//
// All functions are pure and thread-safe.
#ifndef MIMI_PORTABILITY_MESSAGES_H_
#define MIMI_PORTABILITY_MESSAGES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi {

using Nonce = std::array<uint8_t, 32>;

// struct {
//   opaque source_domain_name<V>;
//   opaque target_domain_name<V>;
//   opaque group_id<V>;
//   uint64 epoch;
// } MigrationRequest;
struct MigrationRequest {
  Bytes source_domain_name;
  Bytes target_domain_name;
  Bytes group_id;
  uint64_t epoch = 0;

  bool operator==(const MigrationRequest&) const = default;
};

// struct {
//   MigrationRequest migration_request;
//   uint8[32] nonce;
//   opaque signature<V>;
// } MigrationResponse;
struct MigrationResponse {
  MigrationRequest migration_request;
  Nonce nonce{};
  Bytes signature;

  bool operator==(const MigrationResponse&) const = default;
};

// struct {
//   MigrationResponse migration_response;
//   opaque signature<V>;
// } MigrationInit;
struct MigrationInit {
  MigrationResponse migration_response;
  Bytes signature;

  bool operator==(const MigrationInit&) const = default;
};

// struct {
//   opaque target_ds_domain<V>;
// } MigrationCommitAAD
struct MigrationCommitAAD {
  Bytes target_ds_domain;

  bool operator==(const MigrationCommitAAD&) const = default;
};

// struct {
//   MigrationResponse migration_response;
//   opaque group_state<V>;
//   opaque signature<V>;
// } MigrationContent;
struct MigrationContent {
  MigrationResponse migration_response;
  Bytes group_state;
  Bytes signature;

  bool operator==(const MigrationContent&) const = default;
};

// struct {
//   opaque migration_content_hash<V>;
//   opaque signature<V>;
// } TargetMigrationComplete;
struct TargetMigrationComplete {
  Bytes migration_content_hash;
  Bytes signature;

  bool operator==(const TargetMigrationComplete&) const = default;
};

// struct {
//   opaque domain_name<V>;
//   uint8[32] nonce;
//   opaque group_id<V>;
//   opaque signature<V>;
// } MigrationConfirmation;
struct MigrationConfirmation {
  Bytes domain_name;
  Nonce nonce{};
  Bytes group_id;
  Bytes signature;

  bool operator==(const MigrationConfirmation&) const = default;
};

// --- Profile additions (docs/protocol.md §1.3); not part of the draft. ---

// The body of POST endpoints::kInitPath: the draft's MigrationInit plus
// what the source needs to check it (the signer's leaf) and the tagged commit.
// struct {
//   MigrationInit migration_init;
//   uint32 sender_leaf_index;
//   opaque commit<V>;            // one serialized MLSMessage
// } MigrationInitRequest;
struct MigrationInitRequest {
  MigrationInit migration_init;
  uint32_t sender_leaf_index = 0;
  Bytes commit;

  bool operator==(const MigrationInitRequest&) const = default;
};

// Source -> target: give up the migration under `nonce`.
// struct {
//   uint8 nonce[32];
//   opaque signature<V>;
// } MigrationAbort;
struct MigrationAbort {
  Nonce nonce{};
  Bytes signature;

  bool operator==(const MigrationAbort&) const = default;
};

// Target -> source: the nonce is burnt; no content will be imported under it.
// struct {
//   uint8 nonce[32];
//   opaque signature<V>;
// } MigrationAbortAck;
struct MigrationAbortAck {
  Nonce nonce{};
  Bytes signature;

  bool operator==(const MigrationAbortAck&) const = default;
};

Result<Bytes> Encode(const MigrationRequest& m);
Result<Bytes> Encode(const MigrationResponse& m);
Result<Bytes> Encode(const MigrationInit& m);
Result<Bytes> Encode(const MigrationCommitAAD& m);
Result<Bytes> Encode(const MigrationContent& m);
Result<Bytes> Encode(const TargetMigrationComplete& m);
Result<Bytes> Encode(const MigrationConfirmation& m);
Result<Bytes> Encode(const MigrationInitRequest& m);
Result<Bytes> Encode(const MigrationAbort& m);
Result<Bytes> Encode(const MigrationAbortAck& m);

// Strict decoding of one whole message; see the file comment.
template <typename T>
Result<T> Decode(ByteSpan bytes);

// A MigrationContent decoded without copying its large fields: group_state
// and signature point into the decoded bytes, which must outlive the view.
// tbs is ToBeSigned of the content: the prefix of those bytes before the
// signature. Decoding checks and reports exactly what Decode<MigrationContent>
// does.
struct MigrationContentView {
  MigrationResponse migration_response;
  ByteSpan group_state;
  ByteSpan signature;
  ByteSpan tbs;
};
Result<MigrationContentView> DecodeMigrationContentView(ByteSpan bytes);

// The cipher_suite the GroupState inside a MigrationContent names (the
// GroupState's version and cipher_suite are its first two uint16s), read
// from the first bytes of the serialized content; empty while `prefix` is
// too short to tell or does not parse (the whole content is decoded, and any
// error reported, later). For hashing a content as it arrives.
std::optional<uint16_t> PeekMigrationContentSuite(ByteSpan prefix);

// The bytes the struct's `signature` covers. Only for signed structs.
Result<Bytes> ToBeSigned(const MigrationResponse& m);
Result<Bytes> ToBeSigned(const MigrationInit& m);
Result<Bytes> ToBeSigned(const MigrationContent& m);
Result<Bytes> ToBeSigned(const TargetMigrationComplete& m);
Result<Bytes> ToBeSigned(const MigrationConfirmation& m);
Result<Bytes> ToBeSigned(const MigrationAbort& m);
Result<Bytes> ToBeSigned(const MigrationAbortAck& m);

// The struct's name as the draft spells it; for signed structs also the
// SignWithLabel label (prefixed with "MIMI Portability 1.0 " by the signer).
template <typename T>
constexpr std::string_view MessageName();
template <> constexpr std::string_view MessageName<MigrationRequest>() { return "MigrationRequest"; }
template <> constexpr std::string_view MessageName<MigrationResponse>() { return "MigrationResponse"; }
template <> constexpr std::string_view MessageName<MigrationInit>() { return "MigrationInit"; }
template <> constexpr std::string_view MessageName<MigrationCommitAAD>() { return "MigrationCommitAAD"; }
template <> constexpr std::string_view MessageName<MigrationContent>() { return "MigrationContent"; }
template <> constexpr std::string_view MessageName<TargetMigrationComplete>() { return "TargetMigrationComplete"; }
template <> constexpr std::string_view MessageName<MigrationConfirmation>() { return "MigrationConfirmation"; }
template <> constexpr std::string_view MessageName<MigrationInitRequest>() { return "MigrationInitRequest"; }
template <> constexpr std::string_view MessageName<MigrationAbort>() { return "MigrationAbort"; }
template <> constexpr std::string_view MessageName<MigrationAbortAck>() { return "MigrationAbortAck"; }

template <typename T>
constexpr std::string_view SignatureLabel() { return MessageName<T>(); }

}  // namespace mimi

#endif  // MIMI_PORTABILITY_MESSAGES_H_
