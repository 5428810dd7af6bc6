// Byte strings that tests build: a hex literal's bytes, a run of distinct
// bytes, a ratchet tree of blank nodes. Header-only, because the tests of
// every module use them and most link only the module they test. Pure
// functions; thread-safe.
#ifndef MIMI_TESTING_TEST_BYTES_H_
#define MIMI_TESTING_TEST_BYTES_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "codec/writer.h"
#include "mimi_portability/bytes.h"

namespace mimi::testing {

// The bytes of `hex`; a malformed literal fails the calling test (it is the
// test's own bug) and yields no bytes.
inline Bytes Hex(std::string_view hex) {
  auto bytes = FromHex(hex);
  if (!bytes.ok()) {
    ADD_FAILURE() << "malformed hex literal: " << hex;
    return {};
  }
  return *std::move(bytes);
}

// n bytes first, first + 1, ... (mod 256): neighbours differ, so a field
// read from the wrong offset shows.
inline Bytes Seq(uint8_t first, size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

// `optional<Node> ratchet_tree<V>` of `nodes` blank nodes, one byte each:
// the most nodes a body of a given size can claim, for the size bounds.
inline Bytes BlankRatchetTree(size_t nodes) {
  codec::Writer w;
  w.WriteOpaque("ratchet_tree", Bytes(nodes, 0));
  return std::move(w).Finish().value();
}

}  // namespace mimi::testing

#endif  // MIMI_TESTING_TEST_BYTES_H_
