// The one place mimi-portd turns its [ds] settings (daemon/config.h) into an
// HttpDeliveryService: it reads the shared secret from ds.secret_file and
// hands everything to HttpDeliveryService::Create.
//
// It lives in the daemon, not in ds_http/, because it reads the daemon's
// Config: dependencies point down (docs/operations.md, "Module layering").
// Thread-safe (no shared state).
#ifndef MIMI_DAEMON_DS_FROM_CONFIG_H_
#define MIMI_DAEMON_DS_FROM_CONFIG_H_

#include <memory>
#include <string>

#include "crypto/secret_bytes.h"
#include "daemon/config.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/delivery_service.h"

namespace mimi::daemon {

// The secret is the file's bytes without trailing white space (so that
// `openssl rand -hex 32 > secret` works). The file must be a regular file
// with no group or other permission bits; the secret at least 32 bytes.
// kInvalidArgument naming "ds.secret_file" otherwise.
Result<crypto::SecretBytes> ReadSecretFile(const std::string& path);

// For config.ds.mode == "http" (kInvalidArgument otherwise). `clock` must
// outlive the result; it timestamps the hook signatures.
Result<std::unique_ptr<DeliveryService>> CreateHttpDeliveryService(
    const Config& config, const Clock& clock);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_DS_FROM_CONFIG_H_
