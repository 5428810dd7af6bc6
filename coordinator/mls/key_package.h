// RFC 9420 KeyPackage (§10), read structurally: it arrives inside Add
// proposals of a commit, where the new member's LeafNode (and so its
// signature key) is what a Delivery Service cares about.
//
// Pure functions over plain values; thread-safe.
#ifndef MIMI_MLS_KEY_PACKAGE_H_
#define MIMI_MLS_KEY_PACKAGE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "codec/reader.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/leaf_node.h"

namespace mimi::mls {

struct KeyPackage {
  uint16_t version = 0;
  uint16_t cipher_suite = 0;
  Bytes init_key;
  LeafNode leaf_node;
  std::vector<Extension> extensions;
  Bytes signature;
};

Status ReadKeyPackage(codec::Reader& r, std::string_view path, KeyPackage* out);

}  // namespace mimi::mls

#endif  // MIMI_MLS_KEY_PACKAGE_H_
