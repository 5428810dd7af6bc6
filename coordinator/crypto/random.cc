#include "crypto/random.h"

#include <openssl/rand.h>

#include <climits>

#include "crypto/openssl_util.h"

namespace mimi::crypto {

Status RandomBytes(std::span<uint8_t> out) {
  // RAND_bytes takes an int length; chunk so huge requests cannot overflow.
  while (!out.empty()) {
    size_t n = std::min<size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
      return InternalError(internal::OpenSslError("RAND_bytes failed"));
    }
    out = out.subspan(n);
  }
  return Status::Ok();
}

Result<Nonce> RandomNonce() {
  Nonce nonce{};
  MIMI_RETURN_IF_ERROR(RandomBytes(nonce));
  return nonce;
}

}  // namespace mimi::crypto
