// The tests' one way to read a whole file (fixtures, logs, a child's output,
// generated configs): ReadTextFile as a string, ReadBinaryFile as Bytes. A
// file that cannot be opened reads as empty, so the caller's assertions on
// its content fail rather than the helper aborting the test. Paths are
// strings (a std::filesystem::path converts): GCC 12 sees a false
// -Warray-bounds in moving a concatenated string into a path.
//
// Header-only (tests linking only the module they test use it too);
// stateless, safe from any thread.
#ifndef MIMI_TESTING_READ_FILE_H_
#define MIMI_TESTING_READ_FILE_H_

#include <fstream>
#include <iterator>
#include <string>

#include "mimi_portability/bytes.h"

namespace mimi::testing {

inline std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

inline Bytes ReadBinaryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
}

}  // namespace mimi::testing

#endif  // MIMI_TESTING_READ_FILE_H_
