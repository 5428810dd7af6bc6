// One libFuzzer target per decoder: this file is compiled once per target
// (tests/fuzz/CMakeLists.txt, mimi_fuzz_target). For the wire messages it
// gets -DMIMI_FUZZ_TYPE=<struct name> and runs fuzz::CheckMessage<T>; another
// decoder passes its own check function as MIMI_FUZZ_CHECK and the header
// declaring it as MIMI_FUZZ_CHECK_HEADER. It aborts when an input breaks the
// round-trip property of fuzz_checks.h, which is how libFuzzer records a
// crash and saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_checks.h"

#ifdef MIMI_FUZZ_CHECK_HEADER
#include MIMI_FUZZ_CHECK_HEADER
#endif

#ifndef MIMI_FUZZ_CHECK
#ifndef MIMI_FUZZ_TYPE
#error \
    "compile with -DMIMI_FUZZ_TYPE=<message struct> or -DMIMI_FUZZ_CHECK=<fn>"
#endif
#define MIMI_FUZZ_CHECK mimi::fuzz::CheckMessage<mimi::MIMI_FUZZ_TYPE>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string violation =
      MIMI_FUZZ_CHECK(mimi::ByteSpan(data, size), nullptr);
  if (!violation.empty()) {
    std::fprintf(stderr, "round-trip violation: %s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
