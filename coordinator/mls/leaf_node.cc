#include "mls/leaf_node.h"

#include <set>
#include <string>

#include "codec/reader.h"
#include "mls/vectors.h"

namespace mimi::mls {
namespace {

using codec::FieldPath;
using codec::Reader;

Status ReadU16List(Reader& r, std::string_view path, std::vector<uint16_t>* out) {
  return ReadVector(r, path, [out](Reader& sub, std::string_view element) {
    uint16_t v = 0;
    MIMI_RETURN_IF_ERROR(sub.ReadU16(element, &v));
    out->push_back(v);
    return Status::Ok();
  });
}

Status ReadCapabilities(Reader& r, std::string_view path, Capabilities* out) {
  MIMI_RETURN_IF_ERROR(ReadU16List(r, FieldPath(path, "versions"), &out->versions));
  MIMI_RETURN_IF_ERROR(
      ReadU16List(r, FieldPath(path, "cipher_suites"), &out->cipher_suites));
  MIMI_RETURN_IF_ERROR(ReadU16List(r, FieldPath(path, "extensions"), &out->extensions));
  MIMI_RETURN_IF_ERROR(ReadU16List(r, FieldPath(path, "proposals"), &out->proposals));
  return ReadU16List(r, FieldPath(path, "credentials"), &out->credentials);
}

}  // namespace

std::string_view LeafNodeSourceName(LeafNodeSource source) {
  switch (source) {
    case LeafNodeSource::kKeyPackage:
      return "key_package";
    case LeafNodeSource::kUpdate:
      return "update";
    case LeafNodeSource::kCommit:
      return "commit";
  }
  return "unknown";
}

Status ReadExtensions(Reader& r, std::string_view path, std::vector<Extension>* out) {
  std::set<uint16_t> seen;
  return ReadVector(r, path, [out, &seen](Reader& sub, std::string_view element) {
    Extension ext;
    MIMI_RETURN_IF_ERROR(sub.ReadU16(FieldPath(element, "extension_type"), &ext.type));
    MIMI_RETURN_IF_ERROR(
        sub.ReadOpaque(FieldPath(element, "extension_data"), &ext.data));
    if (!seen.insert(ext.type).second) {
      return InvalidArgumentError(FieldPath(element, "extension_type") +
                                  ": extension type " + std::to_string(ext.type) +
                                  " appears twice");
    }
    out->push_back(std::move(ext));
    return Status::Ok();
  });
}

Status ReadCredential(Reader& r, std::string_view path, Credential* out) {
  const std::string type_field = FieldPath(path, "credential_type");
  MIMI_RETURN_IF_ERROR(r.ReadU16(type_field, &out->type));
  switch (out->type) {
    case kCredentialBasic:
      return r.ReadOpaque(FieldPath(path, "identity"), &out->identity);
    case kCredentialX509:
      return ReadVector(r, FieldPath(path, "certificates"),
                        [out](Reader& sub, std::string_view element) {
                          Bytes cert;
                          MIMI_RETURN_IF_ERROR(
                              sub.ReadOpaque(FieldPath(element, "cert_data"), &cert));
                          out->certificates.push_back(std::move(cert));
                          return Status::Ok();
                        });
    default:
      return UnsupportedError(type_field + ": credential type " +
                              std::to_string(out->type) + " is not basic or x509");
  }
}

Status ReadLeafNode(Reader& r, std::string_view path, LeafNode* out) {
  const Reader start = r;
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(FieldPath(path, "encryption_key"), &out->encryption_key));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "signature_key"), &out->signature_key));
  MIMI_RETURN_IF_ERROR(ReadCredential(r, FieldPath(path, "credential"), &out->credential));
  MIMI_RETURN_IF_ERROR(
      ReadCapabilities(r, FieldPath(path, "capabilities"), &out->capabilities));
  const std::string source_field = FieldPath(path, "leaf_node_source");
  uint8_t source = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(source_field, &source));
  switch (source) {
    case 1:
      out->source = LeafNodeSource::kKeyPackage;
      MIMI_RETURN_IF_ERROR(
          r.ReadU64(FieldPath(path, "lifetime.not_before"), &out->lifetime.not_before));
      MIMI_RETURN_IF_ERROR(
          r.ReadU64(FieldPath(path, "lifetime.not_after"), &out->lifetime.not_after));
      break;
    case 2:
      out->source = LeafNodeSource::kUpdate;
      break;
    case 3:
      out->source = LeafNodeSource::kCommit;
      MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "parent_hash"), &out->parent_hash));
      break;
    default:
      return MalformedError(source_field + ": invalid value " + std::to_string(source));
  }
  MIMI_RETURN_IF_ERROR(ReadExtensions(r, FieldPath(path, "extensions"), &out->extensions));
  out->signed_fields = ConsumedSince(start, r);
  return r.ReadOpaque(FieldPath(path, "signature"), &out->signature);
}

Result<LeafNode> DecodeLeafNode(ByteSpan bytes) {
  Reader r(bytes);
  LeafNode node;
  MIMI_RETURN_IF_ERROR(ReadLeafNode(r, "LeafNode", &node));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd("LeafNode"));
  return node;
}

}  // namespace mimi::mls
