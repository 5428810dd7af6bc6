#include "crypto/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "crypto/openssl_util.h"

namespace mimi::crypto {
namespace {

using internal::BioPtr;
using internal::Deleter;
using internal::EvpPkeyPtr;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

Result<BioPtr> OpenFile(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    internal::ClearOpenSslErrors();
    return NotFoundError("cannot read " + path);
  }
  return bio;
}

std::string SubjectOf(const X509* cert) {
  char buf[256] = {0};
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

Result<int> CountPemCertificates(const std::string& path) {
  MIMI_ASSIGN_OR_RETURN(BioPtr bio, OpenFile(path));
  int count = 0;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      // The end of the file reads as "no start line"; anything else is a
      // block that does not parse.
      const unsigned long err = ERR_peek_last_error();
      const bool at_end = ERR_GET_LIB(err) == ERR_LIB_PEM &&
                          ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
      if (at_end && count > 0) {
        internal::ClearOpenSslErrors();
        return count;
      }
      if (at_end) {
        internal::ClearOpenSslErrors();
        return InvalidArgumentError(path + ": no PEM certificate in it");
      }
      return InvalidArgumentError(internal::OpenSslError(
          path + ": certificate " + std::to_string(count + 1) +
          " does not parse"));
    }
    ++count;
    if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
      return InvalidArgumentError(path + ": certificate " +
                                  std::to_string(count) + " (" +
                                  SubjectOf(cert.get()) + ") has expired");
    }
  }
}

Status CheckCertificateKeyPair(const std::string& cert_path,
                               const std::string& key_path) {
  MIMI_ASSIGN_OR_RETURN(BioPtr cert_bio, OpenFile(cert_path));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return InvalidArgumentError(
        internal::OpenSslError(cert_path + ": no certificate"));
  }
  MIMI_ASSIGN_OR_RETURN(BioPtr key_bio, OpenFile(key_path));
  EvpPkeyPtr key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return InvalidArgumentError(internal::OpenSslError(
        key_path + ": no PEM private key (or encrypted)"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    internal::ClearOpenSslErrors();
    return InvalidArgumentError(
        key_path + ": is not the key of the certificate in " + cert_path);
  }
  return Status::Ok();
}

}  // namespace mimi::crypto
