#include "crypto/secret_bytes.h"

#include <openssl/crypto.h>

namespace mimi::crypto {

void Cleanse(void* data, size_t size) { OPENSSL_cleanse(data, size); }

}  // namespace mimi::crypto
