// Checks of the PEM files that TLS settings name, made before anything
// relies on them (mimi-portd --check-config): a certificate bundle holds
// certificates and nothing unreadable, none of them expired; a certificate
// chain and a private key load and belong together. OpenSSL's PEM readers
// decide, as they do for the daemon's TLS listener and its peer client.
//
// Pure functions of the files; thread-safe.
#ifndef MIMI_CRYPTO_TLS_FILES_H_
#define MIMI_CRYPTO_TLS_FILES_H_

#include <string>

#include "mimi_portability/status.h"

namespace mimi::crypto {

// How many certificates the PEM file at `path` holds: kNotFound for a file
// that cannot be read; kInvalidArgument for one without a certificate, with
// a block that does not parse, or with an expired certificate (named by its
// subject).
Result<int> CountPemCertificates(const std::string& path);

// OK when `key_path` holds a PEM private key that belongs to the first
// certificate of `cert_path`; kInvalidArgument saying which part fails.
Status CheckCertificateKeyPair(const std::string& cert_path,
                               const std::string& key_path);

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_TLS_FILES_H_
