#include "testing/json_shape.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace mimi::testing {
namespace {

const std::set<std::string> kTypes = {"string", "int",   "bool",  "null",
                                      "object", "array", "absent"};

std::string TypeOf(const nlohmann::json& v) {
  if (v.is_string()) return "string";
  if (v.is_number_integer()) return "int";
  if (v.is_boolean()) return "bool";
  if (v.is_null()) return "null";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  return "number";
}

std::string Child(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string ParentOf(const std::string& path) {
  if (path.size() >= 2 && path.compare(path.size() - 2, 2, "[]") == 0) {
    return path.substr(0, path.size() - 2) + "#array";
  }
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

void Report(std::vector<std::string>* problems, std::string problem) {
  if (std::find(problems->begin(), problems->end(), problem) == problems->end()) {
    problems->push_back(std::move(problem));
  }
}

// Checks `v` at `path` (the root is ""), then each object's documented
// children one instance at a time, so that a field missing from one element
// of an array is found even when the others have it.
void CheckNode(const nlohmann::json& v, const std::string& path,
               const JsonShape& shape, std::vector<std::string>* problems) {
  if (!path.empty()) {
    auto doc = shape.find(path);
    if (doc == shape.end()) return Report(problems, "undocumented field " + path);
    if (doc->second.count(TypeOf(v)) == 0) {
      Report(problems, path + " is " + TypeOf(v) + ", documented as another type");
    }
  }
  if (v.is_object()) {
    for (const auto& [p, types] : shape) {
      if (ParentOf(p) != path || types.count("absent") != 0) continue;
      const std::string key = path.empty() ? p : p.substr(path.size() + 1);
      if (!v.contains(key)) Report(problems, "documented field " + p + " is missing");
    }
    for (const auto& [k, child] : v.items()) CheckNode(child, Child(path, k), shape, problems);
  } else if (v.is_array()) {
    for (const auto& e : v) CheckNode(e, path + "[]", shape, problems);
  }
}

}  // namespace

JsonShape DocumentedJsonShape(const std::string& doc, const std::string& command,
                              std::string* error) {
  std::istringstream in(doc);
  std::string line;
  const std::string& heading = command;
  bool after_heading = false, in_block = false;
  JsonShape shape;
  while (std::getline(in, line)) {
    if (!after_heading) {
      after_heading = line.rfind("####", 0) == 0 && line.find(heading) != std::string::npos;
      continue;
    }
    if (!in_block) {
      if (line.rfind("```", 0) == 0) in_block = true;
      continue;
    }
    if (line.rfind("```", 0) == 0) break;
    std::istringstream fields(line);
    std::string path, types;
    if (!(fields >> path >> types)) continue;
    std::istringstream alternatives(types);
    std::string t;
    while (std::getline(alternatives, t, '|')) {
      if (kTypes.count(t) == 0) {
        *error = command + ": unknown type '" + t + "' in: " + line;
        return {};
      }
      shape[path].insert(t);
    }
  }
  if (shape.empty()) *error = "no ```text shape under a #### heading naming " + heading;
  return shape;
}

std::vector<std::string> JsonShapeProblems(const nlohmann::json& value,
                                           const JsonShape& shape) {
  std::vector<std::string> problems;
  CheckNode(value, "", shape, &problems);
  return problems;
}

}  // namespace mimi::testing
