// One libFuzzer target per wire message: this file is compiled once per type
// with -DMIMI_FUZZ_TYPE=<struct name> (tests/fuzz/CMakeLists.txt). It aborts
// when an input breaks the round-trip property of fuzz_checks.h, which is
// how libFuzzer records a crash and saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_checks.h"

#ifndef MIMI_FUZZ_TYPE
#error "compile with -DMIMI_FUZZ_TYPE=<message struct name>"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string violation =
      mimi::fuzz::CheckMessage<mimi::MIMI_FUZZ_TYPE>(mimi::ByteSpan(data, size));
  if (!violation.empty()) {
    std::fprintf(stderr, "round-trip violation: %s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
