// The one place mimi-portd turns its [ds] settings (daemon/config.h) into an
// HttpDeliveryService: it reads the shared secret from ds.secret_file and
// hands everything to HttpDeliveryService::Create.
//
// Only DsConfig's plain fields are read, so this module needs the daemon's
// header, not its library. Thread-safe (no shared state).
#ifndef MIMI_DS_HTTP_FROM_CONFIG_H_
#define MIMI_DS_HTTP_FROM_CONFIG_H_

#include <memory>
#include <string>

#include "crypto/secret_bytes.h"
#include "daemon/config.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/delivery_service.h"

namespace mimi::ds_http {

// The secret is the file's bytes without trailing white space (so that
// `openssl rand -hex 32 > secret` works). The file must be a regular file
// with no group or other permission bits; the secret at least 32 bytes.
// kInvalidArgument naming "ds.secret_file" otherwise.
Result<crypto::SecretBytes> ReadSecretFile(const std::string& path);

// For config.ds.mode == "http" (kInvalidArgument otherwise). `clock` must
// outlive the result; it timestamps the hook signatures.
Result<std::unique_ptr<DeliveryService>> CreateHttpDeliveryService(
    const daemon::Config& config, const Clock& clock);

}  // namespace mimi::ds_http

#endif  // MIMI_DS_HTTP_FROM_CONFIG_H_
