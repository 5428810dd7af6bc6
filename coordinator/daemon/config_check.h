// CheckConfigFiles: what `mimi-portd --check-config` verifies beyond the
// settings themselves (ConfigFileProblems in daemon/config.h): that the
// files a config names are usable and that its data directory is one this
// binary can run on. Each finding names its setting, so that an operator
// (or a unit's ExecStartPre) sees every problem at once:
//   - tls.cert and tls.key: a PEM chain and the private key that belongs to
//     it, no certificate expired; tls.ca and ds.ca: a readable PEM bundle;
//   - ds.secret_file: read as the daemon reads it (size, permissions);
//   - data_dir: a directory this process can write, or one it can create;
//   - the database in it, if there is one: a mimi database no newer than
//     this binary (opened read-only); the DS key store: readable, its key
//     files private.
// Nothing is created, changed or contacted. Thread-safe (no shared state).
#ifndef MIMI_DAEMON_CONFIG_CHECK_H_
#define MIMI_DAEMON_CONFIG_CHECK_H_

#include <vector>

#include "daemon/config.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::daemon {

// Every problem found with the files and directories `config` names (a
// config that passed ConfigFileProblems); empty when there is none.
std::vector<Status> CheckConfigFiles(const Config& config, const Clock& clock);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_CONFIG_CHECK_H_
