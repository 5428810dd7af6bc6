#include "mls/key_package.h"

namespace mimi::mls {

using codec::FieldPath;

Status ReadKeyPackage(codec::Reader& r, std::string_view path, KeyPackage* out) {
  MIMI_RETURN_IF_ERROR(r.ReadU16(FieldPath(path, "version"), &out->version));
  MIMI_RETURN_IF_ERROR(r.ReadU16(FieldPath(path, "cipher_suite"), &out->cipher_suite));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "init_key"), &out->init_key));
  MIMI_RETURN_IF_ERROR(ReadLeafNode(r, FieldPath(path, "leaf_node"), &out->leaf_node));
  MIMI_RETURN_IF_ERROR(ReadExtensions(r, FieldPath(path, "extensions"), &out->extensions));
  return r.ReadOpaque(FieldPath(path, "signature"), &out->signature);
}

}  // namespace mimi::mls
