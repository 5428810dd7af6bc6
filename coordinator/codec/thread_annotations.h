// Clang thread-safety annotations (-Wthread-safety): a class's mutex and the
// members it guards are declared together, and the compiler checks that
// every access holds it (docs/operations.md, "Module layering", and
// tools/test run the check). Under GCC, or clang without the analysis, the
// macros expand to nothing.
//
// The names follow clang's documentation and abseil's: GUARDED_BY(mu) on a
// member, REQUIRES(mu) on a function that must be called with mu held,
// EXCLUDES(mu) on one that takes it itself. Macros only; no state.
#ifndef MIMI_CODEC_THREAD_ANNOTATIONS_H_
#define MIMI_CODEC_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define MIMI_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define MIMI_THREAD_ANNOTATION_(x)
#endif

#define CAPABILITY(x) MIMI_THREAD_ANNOTATION_(capability(x))
#define SCOPED_CAPABILITY MIMI_THREAD_ANNOTATION_(scoped_lockable)
#define GUARDED_BY(x) MIMI_THREAD_ANNOTATION_(guarded_by(x))
#define PT_GUARDED_BY(x) MIMI_THREAD_ANNOTATION_(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) \
  MIMI_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) MIMI_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
#define REQUIRES(...) \
  MIMI_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) \
  MIMI_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) MIMI_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) MIMI_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) \
  MIMI_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) MIMI_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) MIMI_THREAD_ANNOTATION_(assert_capability(x))
#define RETURN_CAPABILITY(x) MIMI_THREAD_ANNOTATION_(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS \
  MIMI_THREAD_ANNOTATION_(no_thread_safety_analysis)

#endif  // MIMI_CODEC_THREAD_ANNOTATIONS_H_
