// A deliberate data race, built only in the ThreadSanitizer tree
// (SANITIZERS=thread): the ctest case tsan_race_fails_its_test checks that
// TSan reports it and the process exits non-zero, i.e. that a race in any
// test fails that test rather than printing a warning nobody reads. Not a
// GoogleTest: it must fail through TSan's exit code alone.
#include <cstdio>
#include <thread>

namespace {

// Incremented by two threads that nothing orders.
int g_unguarded = 0;

}  // namespace

int main() {
  std::thread other([] { ++g_unguarded; });
  ++g_unguarded;
  other.join();
  std::printf("%d\n", g_unguarded);
  return 0;
}
