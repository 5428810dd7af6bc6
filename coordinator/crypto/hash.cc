#include "crypto/hash.h"

#include <openssl/evp.h>

#include "crypto/openssl_util.h"

namespace mimi::crypto {

namespace {

const EVP_MD* MdOf(HashAlgorithm hash) {
  const EVP_MD* md = nullptr;
  switch (hash) {
    case HashAlgorithm::kSha256:
      md = EVP_sha256();
      break;
    case HashAlgorithm::kSha384:
      md = EVP_sha384();
      break;
    case HashAlgorithm::kSha512:
      md = EVP_sha512();
      break;
  }
  return md;
}

}  // namespace

Result<Bytes> Hash(HashAlgorithm hash, ByteSpan data) {
  const EVP_MD* md = MdOf(hash);
  if (md == nullptr) return InternalError("unknown hash algorithm");
  Bytes out(HashLength(hash));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) !=
          1 ||
      len != out.size()) {
    return InternalError(internal::OpenSslError(std::string("EVP_Digest ") +
                                                std::string(HashName(hash))));
  }
  return out;
}

struct IncrementalHash::Ctx {
  ~Ctx() { EVP_MD_CTX_free(md_ctx); }
  EVP_MD_CTX* md_ctx = nullptr;
};

IncrementalHash::IncrementalHash(HashAlgorithm hash, std::unique_ptr<Ctx> ctx)
    : algorithm_(hash), ctx_(std::move(ctx)) {}
IncrementalHash::IncrementalHash(IncrementalHash&&) noexcept = default;
IncrementalHash& IncrementalHash::operator=(IncrementalHash&&) noexcept =
    default;
IncrementalHash::~IncrementalHash() = default;

Result<IncrementalHash> IncrementalHash::Start(HashAlgorithm hash) {
  const EVP_MD* md = MdOf(hash);
  if (md == nullptr) return InternalError("unknown hash algorithm");
  auto ctx = std::make_unique<Ctx>();
  ctx->md_ctx = EVP_MD_CTX_new();
  if (ctx->md_ctx == nullptr ||
      EVP_DigestInit_ex(ctx->md_ctx, md, nullptr) != 1) {
    return InternalError(internal::OpenSslError(
        std::string("EVP_DigestInit_ex ") + std::string(HashName(hash))));
  }
  return IncrementalHash(hash, std::move(ctx));
}

Status IncrementalHash::Update(ByteSpan piece) {
  if (!ctx_) return InternalError("hash already finished");
  if (piece.empty()) return Status::Ok();
  if (EVP_DigestUpdate(ctx_->md_ctx, piece.data(), piece.size()) != 1) {
    return InternalError(internal::OpenSslError(
        std::string("EVP_DigestUpdate ") + std::string(HashName(algorithm_))));
  }
  return Status::Ok();
}

Result<Bytes> IncrementalHash::Finish() {
  if (!ctx_) return InternalError("hash already finished");
  Bytes out(HashLength(algorithm_));
  unsigned int len = 0;
  const bool ok = EVP_DigestFinal_ex(ctx_->md_ctx, out.data(), &len) == 1 &&
                  len == out.size();
  ctx_.reset();
  if (!ok) {
    return InternalError(internal::OpenSslError(
        std::string("EVP_DigestFinal_ex ") + std::string(HashName(algorithm_))));
  }
  return out;
}

}  // namespace mimi::crypto
