// RFC 9420 LeafNode (§7.2) and the pieces it is made of: Credential (§5.3),
// Capabilities, Lifetime and Extension. A Source DS needs a member's LeafNode
// for that member's signature key and credential, which it reads from the
// ratchet tree, from UpdatePaths in commits and from KeyPackages.
//
// The reader is structural: it checks encodings and enum ranges, not
// signatures or policies. Signature keys are kept exactly as sent (ts-mls
// 1.6.4 sends compressed P-256 points; see docs/protocol.md §2.2). Plain values and
// pure functions; thread-safe.
#ifndef MIMI_MLS_LEAF_NODE_H_
#define MIMI_MLS_LEAF_NODE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "codec/reader.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::mls {

// struct { ExtensionType extension_type; opaque extension_data<V>; } Extension;
struct Extension {
  uint16_t type = 0;
  Bytes data;
};

inline constexpr uint16_t kCredentialBasic = 1;
inline constexpr uint16_t kCredentialX509 = 2;

// Credential: basic carries `identity`; x509 carries DER `certificates`,
// leaf first. Other types cannot be skipped (they have no length prefix), so
// they are refused as unsupported.
struct Credential {
  uint16_t type = 0;
  Bytes identity;
  std::vector<Bytes> certificates;
};

struct Capabilities {
  std::vector<uint16_t> versions;
  std::vector<uint16_t> cipher_suites;
  std::vector<uint16_t> extensions;
  std::vector<uint16_t> proposals;
  std::vector<uint16_t> credentials;
};

enum class LeafNodeSource : uint8_t { kKeyPackage = 1, kUpdate = 2, kCommit = 3 };
std::string_view LeafNodeSourceName(LeafNodeSource source);

struct Lifetime {
  uint64_t not_before = 0;
  uint64_t not_after = 0;
};

struct LeafNode {
  Bytes encryption_key;
  Bytes signature_key;
  Credential credential;
  Capabilities capabilities;
  LeafNodeSource source = LeafNodeSource::kKeyPackage;
  Lifetime lifetime;  // only for source kKeyPackage
  Bytes parent_hash;  // only for source kCommit
  std::vector<Extension> extensions;
  Bytes signature;
  // The serialized fields before `signature`, as received: LeafNodeTBS is
  // these bytes, followed for update/commit sources by group_id<V> and
  // uint32 leaf_index.
  Bytes signed_fields;
};

// Reads one struct at the reader's position; `path` prefixes error fields
// ("MLSMessage.public_message.content.commit.path.leaf_node").
Status ReadLeafNode(codec::Reader& r, std::string_view path, LeafNode* out);
Status ReadCredential(codec::Reader& r, std::string_view path, Credential* out);
// `Extension extensions<V>`; a repeated extension type is refused.
Status ReadExtensions(codec::Reader& r, std::string_view path,
                      std::vector<Extension>* out);

// A whole LeafNode and nothing else.
Result<LeafNode> DecodeLeafNode(ByteSpan bytes);

}  // namespace mimi::mls

#endif  // MIMI_MLS_LEAF_NODE_H_
