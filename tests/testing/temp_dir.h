// TempDir: a fresh private directory under $TMPDIR (or /tmp) that is removed
// with everything in it when the object goes away, so tests clean up after
// themselves even when an assertion returns early.
//
// One owner; not synchronised.
#ifndef MIMI_TESTING_TEMP_DIR_H_
#define MIMI_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace mimi::testing {

class TempDir {
 public:
  // Aborts the test process if no directory can be made: nothing sensible
  // can run without one.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_TEMP_DIR_H_
