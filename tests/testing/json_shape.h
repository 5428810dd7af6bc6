// JSON shapes documented in docs/operations.md, and a checker: the --json
// output of a command must have every documented field with a documented
// type, and no field that is not documented.
//
// The doc gives each shape under a heading line containing "`CMD --json`"
// as a ```text block of lines "PATH TYPE[|TYPE...] [comment]": PATH is
// dotted, "[]" stands for the elements of an array ("migrations[].role",
// "[].name" for a top-level array); TYPE is string, int, bool, null, object,
// array, or absent (the field may be left out). A documented field is
// required wherever its parent is present and not null. Pure functions; thread-safe.
#ifndef MIMI_TESTING_JSON_SHAPE_H_
#define MIMI_TESTING_JSON_SHAPE_H_

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mimi::testing {

using JsonShape = std::map<std::string, std::set<std::string>>;

// The shape documented under the heading containing `command` (e.g.
// "`status --json`") in `doc`; empty
// with *error set if there is none or it does not parse.
JsonShape DocumentedJsonShape(const std::string& doc, const std::string& command,
                              std::string* error);

// What is wrong with `value` for `shape` (empty: nothing).
std::vector<std::string> JsonShapeProblems(const nlohmann::json& value,
                                           const JsonShape& shape);

// docs/operations.md of this source tree (MIMI_SOURCE_DIR is defined for
// the test executables, not for this library).
#ifdef MIMI_SOURCE_DIR
inline std::string OperationsDoc() {
  std::ifstream f(std::string(MIMI_SOURCE_DIR "/docs/operations.md"));
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
#endif

}  // namespace mimi::testing

#endif  // MIMI_TESTING_JSON_SHAPE_H_
