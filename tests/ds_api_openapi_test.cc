// docs/ds-api.openapi.yaml and docs/ds-api.md describe exactly the member
// API routes mimi-portd registers: the (method, path) pairs under the YAML's
// `paths:` equal kDsRoutes, the table RegisterDsRoutes serves, and the prose
// reference has a section per route. The YAML is read textually (no YAML
// library in the project): its `paths:` block is written in the fixed
// two-space layout that the reader below expects, and the test fails if it
// finds nothing there.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "daemon/ds_routes.h"
#include "testing/read_file.h"

namespace mimi::daemon {
namespace {

using ::mimi::testing::ReadTextFile;

size_t Indent(const std::string& line) {
  return line.find_first_not_of(' ');
}

using RouteSet = std::set<std::pair<std::string, std::string>>;

// (METHOD, path) of every operation under the top-level `paths:` key: paths
// are the keys indented by 2 that start with '/', methods the keys indented
// by 4 under them that name an HTTP method.
RouteSet OpenApiRoutes(const std::string& yaml, std::string* error) {
  static const std::set<std::string> kMethods = {
      "get", "put", "post", "delete", "options", "head", "patch", "trace"};
  RouteSet out;
  std::istringstream in(yaml);
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    const size_t indent = Indent(line);
    if (indent == std::string::npos || line[indent] == '#') continue;
    if (indent == 0) {
      in_paths = line == "paths:";
      continue;
    }
    if (!in_paths) continue;
    const size_t colon = line.find(':', indent);
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(indent, colon - indent);
    if (indent == 2) {
      if (key.empty() || key[0] != '/') {
        *error = "a key under paths: that is no path: " + line;
        return {};
      }
      path = key;
    } else if (indent == 4 && kMethods.count(key) != 0) {
      if (path.empty()) {
        *error = "a method before any path: " + line;
        return {};
      }
      std::string method = key;
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      out.emplace(method, path);
    }
  }
  return out;
}

RouteSet TableRoutes() {
  RouteSet out;
  for (const DsRoute& r : kDsRoutes) out.emplace(r.method, r.path);
  return out;
}

TEST(DsApiOpenApiTest, PathsAndMethodsAreTheRegisteredRoutes) {
  const std::string yaml =
      ReadTextFile(MIMI_SOURCE_DIR "/docs/ds-api.openapi.yaml");
  ASSERT_FALSE(yaml.empty()) << "docs/ds-api.openapi.yaml is missing";
  std::string error;
  const RouteSet documented = OpenApiRoutes(yaml, &error);
  ASSERT_TRUE(error.empty()) << error;
  const RouteSet served = TableRoutes();
  ASSERT_EQ(served.size(), std::size(kDsRoutes)) << "a route twice in kDsRoutes";
  for (const auto& [method, path] : served) {
    EXPECT_EQ(documented.count({method, path}), 1u)
        << method << " " << path << " is served but not in ds-api.openapi.yaml";
  }
  for (const auto& [method, path] : documented) {
    EXPECT_EQ(served.count({method, path}), 1u)
        << method << " " << path << " is documented but not served";
  }
}

// The reader is not vacuous: it finds operations in the layout the file
// uses, stops at the next top-level key, and refuses what it cannot read.
TEST(DsApiOpenApiTest, TheReaderFindsOperationsAndOnlyUnderPaths) {
  std::string error;
  const RouteSet r = OpenApiRoutes(
      "openapi: 3.0.3\n"
      "paths:\n"
      "  /a:\n"
      "    post:\n"
      "      summary: x\n"
      "      parameters:\n"
      "        - {name: get, in: query}\n"
      "    get:\n"
      "  # a comment\n"
      "  /a/{id}:\n"
      "    delete:\n"
      "components:\n"
      "  /b:\n"
      "    get:\n",
      &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(r, (RouteSet{{"POST", "/a"}, {"GET", "/a"}, {"DELETE", "/a/{id}"}}));
  OpenApiRoutes("paths:\n  oops:\n    get:\n", &error);
  EXPECT_FALSE(error.empty());
}

TEST(DsApiOpenApiTest, TheProseReferenceHasASectionPerRoute) {
  const std::string md = ReadTextFile(MIMI_SOURCE_DIR "/docs/ds-api.md");
  ASSERT_FALSE(md.empty()) << "docs/ds-api.md is missing";
  for (const DsRoute& r : kDsRoutes) {
    const std::string heading =
        "`" + std::string(r.method) + " " + std::string(r.path);
    bool found = false;
    std::istringstream in(md);
    std::string line;
    while (std::getline(in, line)) {
      found = found || (line.rfind("### ", 0) == 0 && line.find(heading) != std::string::npos);
    }
    EXPECT_TRUE(found) << "no '### ... " << heading << "' section in docs/ds-api.md";
  }
}

}  // namespace
}  // namespace mimi::daemon
