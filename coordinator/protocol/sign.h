// SignAndEncode: signs one of this DS's protocol messages with its key for
// the group's ciphersuite and serializes it — the last step of every message
// the source and target roles send. Thread-safe (the key store is).
#ifndef MIMI_PROTOCOL_SIGN_H_
#define MIMI_PROTOCOL_SIGN_H_

#include "crypto/message_signing.h"
#include "mimi_portability/messages.h"
#include "protocol/context.h"

namespace mimi::protocol {

template <typename T>
Result<Bytes> SignAndEncode(const ProtocolContext& ctx, uint16_t suite, T* msg) {
  MIMI_ASSIGN_OR_RETURN(auto key, ctx.keys->SigningKeyFor(suite));
  MIMI_RETURN_IF_ERROR(crypto::SignMessage(*key, msg));
  return Encode(*msg);
}

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_SIGN_H_
