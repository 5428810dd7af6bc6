// AdmitInit: the source's checks on a client's MigrationInitRequest, all of
// them made before anything is stored or frozen (docs/protocol.md §3.2):
// the request names this DS as source and another allowed DS as target; the
// group lives here, unfrozen, at the request's epoch, in a suite this DS
// signs with; the sender leaf's key verifies the MigrationInit and the
// target's key the embedded MigrationResponse; the tagged commit is a commit
// for this group and epoch, from the init's leaf, carrying
// MigrationCommitAAD{target}; the group's cooldown has passed.
//
// Changes nothing; every refusal is a Status with a stable reason.
// Thread-safe (it only reads through the context).
#ifndef MIMI_PROTOCOL_INIT_ADMISSION_H_
#define MIMI_PROTOCOL_INIT_ADMISSION_H_

#include <cstdint>
#include <string>

#include "mimi_portability/messages.h"
#include "protocol/context.h"

namespace mimi::protocol {

// What the checks established, for the row the source then stores.
struct AdmittedInit {
  std::string source;    // this DS
  std::string target;    // the peer that promised to import
  uint16_t ciphersuite;  // the group's
};

Result<AdmittedInit> AdmitInit(const ProtocolContext& ctx,
                               const MigrationInitRequest& init_request);

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_INIT_ADMISSION_H_
