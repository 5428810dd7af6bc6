#include "crypto/public_key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <array>
#include <string>

#include "crypto/key_handle.h"
#include "crypto/openssl_util.h"

namespace mimi::crypto {

namespace internal {

Result<Bytes> CanonicalEcPoint(SignatureScheme scheme, ByteSpan point) {
  const size_t n = FieldBytes(scheme);
  const std::string curve = CurveName(scheme);
  const bool compressed =
      point.size() == 1 + n && (point[0] == 0x02 || point[0] == 0x03);
  const bool uncompressed = point.size() == 1 + 2 * n && point[0] == 0x04;
  if (!compressed && !uncompressed) {
    return MalformedError(
        curve + " public key: " + std::to_string(point.size()) +
        " bytes is not a compressed (" + std::to_string(1 + n) +
        ") or uncompressed (" + std::to_string(1 + 2 * n) + ") SEC1 point");
  }
  EcGroupPtr group(EC_GROUP_new_by_curve_name(CurveNid(scheme)));
  EcPointPtr p(group ? EC_POINT_new(group.get()) : nullptr);
  BnCtxPtr ctx(BN_CTX_new());
  if (!group || !p || !ctx) {
    return InternalError(OpenSslError("EC group allocation"));
  }
  // oct2point checks that the point lies on the curve.
  if (EC_POINT_oct2point(group.get(), p.get(), point.data(), point.size(),
                         ctx.get()) != 1 ||
      EC_POINT_is_at_infinity(group.get(), p.get())) {
    ClearOpenSslErrors();
    return MalformedError(curve + " public key: not a point on the curve");
  }
  Bytes out(1 + 2 * n);
  if (EC_POINT_point2oct(group.get(), p.get(), POINT_CONVERSION_UNCOMPRESSED,
                         out.data(), out.size(), ctx.get()) != out.size()) {
    return InternalError(OpenSslError("EC_POINT_point2oct"));
  }
  return out;
}

Result<Bytes> EncodePublicKey(SignatureScheme scheme, const EVP_PKEY* key) {
  if (IsEdDsa(scheme)) {
    size_t len = 0;
    if (EVP_PKEY_get_raw_public_key(key, nullptr, &len) != 1 ||
        len != FieldBytes(scheme)) {
      return InternalError(OpenSslError("EVP_PKEY_get_raw_public_key"));
    }
    Bytes out(len);
    if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1) {
      return InternalError(OpenSslError("EVP_PKEY_get_raw_public_key"));
    }
    return out;
  }
  std::array<uint8_t, 1 + 2 * 66> buf{};
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf.data(),
                                      buf.size(), &len) != 1) {
    return InternalError(OpenSslError("EC key without a public point"));
  }
  return CanonicalEcPoint(scheme, ByteSpan(buf.data(), len));
}

}  // namespace internal

using internal::BioPtr;
using internal::ClearOpenSslErrors;
using internal::EvpMdCtxPtr;
using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;
using internal::KeyHandle;
using internal::OpenSslError;

Result<PublicKey> PublicKey::Parse(SignatureScheme scheme, ByteSpan encoded) {
  EvpPkeyPtr pkey;
  Bytes canonical;
  if (IsEdDsa(scheme)) {
    if (encoded.size() != internal::FieldBytes(scheme)) {
      return MalformedError(std::string(SchemeName(scheme)) +
                            " public key: " + std::to_string(encoded.size()) +
                            " bytes, expected " +
                            std::to_string(internal::FieldBytes(scheme)));
    }
    pkey.reset(EVP_PKEY_new_raw_public_key_ex(
        nullptr, internal::KeyTypeName(scheme), nullptr, encoded.data(),
        encoded.size()));
    if (!pkey) {
      return MalformedError(OpenSslError(std::string(SchemeName(scheme)) +
                                         " public key rejected"));
    }
    canonical.assign(encoded.begin(), encoded.end());
  } else {
    MIMI_ASSIGN_OR_RETURN(canonical,
                          internal::CanonicalEcPoint(scheme, encoded));
    internal::ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                        internal::CurveName(scheme), 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                         canonical.data(),
                                         canonical.size()) != 1) {
      return InternalError(OpenSslError("building EC key parameters"));
    }
    internal::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) !=
            1) {
      return MalformedError(OpenSslError(std::string(SchemeName(scheme)) +
                                         " public key rejected"));
    }
    pkey.reset(raw);
  }
  auto handle = std::make_shared<KeyHandle>();
  handle->pkey = std::move(pkey);
  return PublicKey(scheme, std::move(canonical), std::move(handle));
}

Result<PublicKey> PublicKey::FromSpkiPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError(OpenSslError("BIO_new_mem_buf"));
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) {
    return MalformedError(OpenSslError("not a PEM SubjectPublicKeyInfo"));
  }
  MIMI_ASSIGN_OR_RETURN(SignatureScheme scheme,
                        internal::SchemeOfKey(pkey.get()));
  MIMI_ASSIGN_OR_RETURN(Bytes encoded,
                        internal::EncodePublicKey(scheme, pkey.get()));
  return Parse(scheme, encoded);
}

Result<std::string> PublicKey::ToSpkiPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), handle_->pkey.get()) != 1) {
    return InternalError(OpenSslError("PEM_write_bio_PUBKEY"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return InternalError("empty PEM output");
  return std::string(data, static_cast<size_t>(len));
}

Status PublicKey::Verify(ByteSpan message, ByteSpan signature) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr,
                                   internal::SignatureDigest(scheme_), nullptr,
                                   handle_->pkey.get()) != 1) {
    return InternalError(OpenSslError("EVP_DigestVerifyInit"));
  }
  // 0 is "does not verify", negative is "could not even parse the
  // signature": to the caller both are a bad signature.
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                       message.data(), message.size()) != 1) {
    ClearOpenSslErrors();
    return Status(StatusCode::kBadSignature, std::string(SchemeName(scheme_)) +
                                                 " signature does not verify");
  }
  return Status::Ok();
}

}  // namespace mimi::crypto
