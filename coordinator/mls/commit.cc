#include "mls/commit.h"

#include <string>

#include "mls/vectors.h"

namespace mimi::mls {
namespace {

using codec::FieldPath;
using codec::Reader;

Status ReadUpdatePathNode(Reader& r, std::string_view path, UpdatePathNode* out) {
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(FieldPath(path, "encryption_key"), &out->encryption_key));
  return ReadVector(r, FieldPath(path, "encrypted_path_secret"),
                    [out](Reader& sub, std::string_view element) {
                      HpkeCiphertext ct;
                      MIMI_RETURN_IF_ERROR(
                          sub.ReadOpaque(FieldPath(element, "kem_output"), &ct.kem_output));
                      MIMI_RETURN_IF_ERROR(
                          sub.ReadOpaque(FieldPath(element, "ciphertext"), &ct.ciphertext));
                      out->encrypted_path_secret.push_back(std::move(ct));
                      return Status::Ok();
                    });
}

}  // namespace

Status ReadCommit(Reader& r, std::string_view path, Commit* out) {
  // Lambdas stay out of MIMI_RETURN_IF_ERROR's argument: theirs would shadow.
  auto read_proposal = [out](Reader& sub, std::string_view element) {
    ProposalOrRef p;
    MIMI_RETURN_IF_ERROR(ReadProposalOrRef(sub, element, &p));
    out->proposals.push_back(std::move(p));
    return Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(ReadVector(r, FieldPath(path, "proposals"), read_proposal));
  const std::string path_field = FieldPath(path, "path");
  bool present = false;
  MIMI_RETURN_IF_ERROR(ReadPresence(r, path_field, &present));
  if (!present) return Status::Ok();
  UpdatePath update_path;
  MIMI_RETURN_IF_ERROR(
      ReadLeafNode(r, FieldPath(path_field, "leaf_node"), &update_path.leaf_node));
  auto read_node = [&update_path](Reader& sub, std::string_view element) {
    UpdatePathNode node;
    MIMI_RETURN_IF_ERROR(ReadUpdatePathNode(sub, element, &node));
    update_path.nodes.push_back(std::move(node));
    return Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(ReadVector(r, FieldPath(path_field, "nodes"), read_node));
  out->path = std::move(update_path);
  return Status::Ok();
}

}  // namespace mimi::mls
