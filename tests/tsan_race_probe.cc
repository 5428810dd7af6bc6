// A deliberate data race, built only in the ThreadSanitizer tree
// (SANITIZERS=thread): the ctest case tsan_race_fails_its_test checks that
// TSan reports it and the process exits non-zero, i.e. that a race in any
// test fails that test rather than printing a warning nobody reads. Not a
// GoogleTest: it must fail through TSan's exit code alone.
//
// One racing pair of increments is not enough: TSan can miss a given race
// (a CI run of the single-pair probe exited 0 unreported, and with the two
// accesses made sequential it still missed about 1 run in 100 here, clang
// 14's TSan v3 at -O0). So the probe races 16 times, each on its own cache
// line, in rounds: a relaxed atomic hands the turn from thread to thread,
// which keeps the accesses apart in time but orders nothing for TSan (no
// happens-before). 2,000 of 2,000 runs were reported.
#include <atomic>
#include <cstdio>
#include <thread>

namespace {

constexpr int kRounds = 16;
// One int per 64-byte line, so each round's race is on fresh shadow.
constexpr int kStride = 16;

// Incremented by two threads that nothing orders, one element per round.
int g_unguarded[kRounds * kStride];
// Odd: the other thread has done round (n-1)/2; even: main has.
std::atomic<int> g_turn{0};

void WaitFor(int turn) {
  while (g_turn.load(std::memory_order_relaxed) != turn) {
    std::this_thread::yield();
  }
}

}  // namespace

int main() {
  std::thread other([] {
    for (int i = 0; i < kRounds; ++i) {
      ++g_unguarded[i * kStride];
      g_turn.store(2 * i + 1, std::memory_order_relaxed);
      WaitFor(2 * i + 2);
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    WaitFor(2 * i + 1);
    ++g_unguarded[i * kStride];
    g_turn.store(2 * i + 2, std::memory_order_relaxed);
  }
  other.join();
  int sum = 0;
  for (int i = 0; i < kRounds; ++i) sum += g_unguarded[i * kStride];
  std::printf("%d\n", sum);
  return 0;
}
