#include "crypto/signing_key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <string>

#include "crypto/key_handle.h"
#include "crypto/openssl_util.h"

namespace mimi::crypto {
namespace {

using internal::BioPtr;
using internal::EvpMdCtxPtr;
using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;
using internal::KeyHandle;
using internal::OpenSslError;

// Refuses to prompt: the store's keys are never encrypted, and a daemon must
// not block on a terminal.
int NoPassword(char*, int, int, void*) { return -1; }

Result<EvpPkeyPtr> EcKeyFromScalar(SignatureScheme scheme, ByteSpan secret) {
  const size_t n = internal::FieldBytes(scheme);
  const std::string curve = internal::CurveName(scheme);
  if (secret.size() != n) {
    return InvalidArgumentError(
        curve + " private key: " + std::to_string(secret.size()) +
        " bytes, expected " + std::to_string(n));
  }
  internal::EcGroupPtr group(
      EC_GROUP_new_by_curve_name(internal::CurveNid(scheme)));
  internal::BnCtxPtr ctx(BN_CTX_new());
  internal::BnPtr d(BN_secure_new());
  internal::EcPointPtr pub(group ? EC_POINT_new(group.get()) : nullptr);
  if (!group || !ctx || !d || !pub ||
      BN_bin2bn(secret.data(), static_cast<int>(secret.size()), d.get()) ==
          nullptr) {
    return InternalError(OpenSslError("EC key allocation"));
  }
  const BIGNUM* order = EC_GROUP_get0_order(group.get());
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), order) >= 0) {
    return InvalidArgumentError(curve + " private key: scalar out of range");
  }
  Bytes pub_bytes(1 + 2 * n);
  if (EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr,
                   ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                         pub_bytes.data(), pub_bytes.size(),
                         ctx.get()) != pub_bytes.size()) {
    return InternalError(OpenSslError("EC public key derivation"));
  }
  internal::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      internal::CurveName(scheme), 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       pub_bytes.data(),
                                       pub_bytes.size()) != 1) {
    return InternalError(OpenSslError("building EC key parameters"));
  }
  // `d` lives on the secure heap, so the builder puts its copy of the scalar
  // there too, and OSSL_PARAM_free wipes that block.
  internal::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) != 1 ||
      EVP_PKEY_fromdata(pctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) !=
          1) {
    return InternalError(OpenSslError("EVP_PKEY_fromdata"));
  }
  return EvpPkeyPtr(raw);
}

}  // namespace

Result<SigningKey> SigningKey::FromHandle(SignatureScheme scheme,
                                          std::shared_ptr<KeyHandle> h) {
  MIMI_ASSIGN_OR_RETURN(Bytes encoded,
                        internal::EncodePublicKey(scheme, h->pkey.get()));
  MIMI_ASSIGN_OR_RETURN(PublicKey pub, PublicKey::Parse(scheme, encoded));
  return SigningKey(std::move(h), std::move(pub));
}

Result<SigningKey> SigningKey::Generate(SignatureScheme scheme) {
  EvpPkeyPtr pkey(
      IsEdDsa(scheme)
          ? EVP_PKEY_Q_keygen(nullptr, nullptr, internal::KeyTypeName(scheme))
          : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                              internal::CurveName(scheme)));
  if (!pkey) {
    return InternalError(OpenSslError(
        std::string("generating ") + std::string(SchemeName(scheme)) + " key"));
  }
  auto h = std::make_shared<KeyHandle>();
  h->pkey = std::move(pkey);
  return FromHandle(scheme, std::move(h));
}

Result<SigningKey> SigningKey::FromRawPrivateKey(SignatureScheme scheme,
                                                 ByteSpan secret) {
  auto h = std::make_shared<KeyHandle>();
  if (IsEdDsa(scheme)) {
    if (secret.size() != internal::FieldBytes(scheme)) {
      return InvalidArgumentError(
          std::string(SchemeName(scheme)) +
          " private key: " + std::to_string(secret.size()) +
          " bytes, expected " + std::to_string(internal::FieldBytes(scheme)));
    }
    h->pkey.reset(
        EVP_PKEY_new_raw_private_key_ex(nullptr, internal::KeyTypeName(scheme),
                                        nullptr, secret.data(), secret.size()));
    if (!h->pkey) {
      return InternalError(OpenSslError("EVP_PKEY_new_raw_private_key_ex"));
    }
  } else {
    MIMI_ASSIGN_OR_RETURN(h->pkey, EcKeyFromScalar(scheme, secret));
  }
  return FromHandle(scheme, std::move(h));
}

Result<SigningKey> SigningKey::FromPkcs8Pem(SignatureScheme expected,
                                            std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError(OpenSslError("BIO_new_mem_buf"));
  EvpPkeyPtr pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (!pkey) {
    return MalformedError(OpenSslError("not an unencrypted PEM private key"));
  }
  MIMI_ASSIGN_OR_RETURN(SignatureScheme scheme,
                        internal::SchemeOfKey(pkey.get()));
  if (scheme != expected) {
    return InvalidArgumentError(
        "private key is " + std::string(SchemeName(scheme)) + ", expected " +
        std::string(SchemeName(expected)));
  }
  auto h = std::make_shared<KeyHandle>();
  h->pkey = std::move(pkey);
  return FromHandle(scheme, std::move(h));
}

Result<SecretBytes> SigningKey::ToPkcs8Pem() const {
  // A secure-heap memory BIO wipes its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), handle_->pkey.get(), nullptr,
                                       nullptr, 0, nullptr, nullptr) != 1) {
    return InternalError(OpenSslError("PEM_write_bio_PrivateKey"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return InternalError("empty PEM output");
  return SecretBytes(std::string_view(data, static_cast<size_t>(len)));
}

Result<Bytes> SigningKey::Sign(ByteSpan message) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr,
                                 internal::SignatureDigest(scheme()), nullptr,
                                 handle_->pkey.get()) != 1) {
    return InternalError(OpenSslError("EVP_DigestSignInit"));
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(),
                     message.size()) != 1) {
    return InternalError(OpenSslError("EVP_DigestSign (size)"));
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(),
                     message.size()) != 1) {
    return InternalError(OpenSslError("EVP_DigestSign"));
  }
  sig.resize(len);  // DER signatures are often shorter than the maximum
  return sig;
}

}  // namespace mimi::crypto
