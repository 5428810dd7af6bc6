// TempDir: a fresh private directory under $TMPDIR (or /tmp) that is removed
// with everything in it when the object goes away, so tests clean up after
// themselves even when an assertion returns early. The one temporary
// directory of the tests, the store tests' helper process and the
// benchmarks; header-only so that a test linking only the module it tests
// can use it.
//
// One owner; not synchronised.
#ifndef MIMI_TESTING_TEMP_DIR_H_
#define MIMI_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace mimi::testing {

class TempDir {
 public:
  // Aborts the test process if no directory can be made: nothing sensible
  // can run without one.
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base && *base ? base : "/tmp") + "/mimi-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }
  // The same as a string, which is what the store's Open calls take.
  std::string File(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_TEMP_DIR_H_
