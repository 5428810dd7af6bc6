#include "daemon/instance_id.h"

#include <unistd.h>

#include "crypto/random.h"
#include "mimi_portability/bytes.h"

namespace mimi::daemon {

Result<std::string> MakeInstanceId(const RandomSource& random) {
  Bytes r(6);
  Status s = random ? random(r) : crypto::RandomBytes(r);
  if (!s.ok()) {
    return Status(s.code(), std::string(s.reason()),
                  "instance id: no random bytes: " + s.detail());
  }
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + ToHex(r);
}

}  // namespace mimi::daemon
