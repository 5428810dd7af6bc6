// Fuzz check for the JSON bodies of the embedded DS's member API
// (daemon/ds_request_bodies.h), which the routes parse from whatever a client
// sends. Same shape as fuzz::CheckMessage: "" or a violation, and whether
// the input was accepted (by any of the three parsers).
//
// Every input goes through all three parsers. Each must either reject it as
// kMalformed with a detail naming "body" or one of its fields, or accept it,
// and then the body it serializes must parse back to the same value. No
// parser may throw (a throw in a route ends as a 500, not a clear 400).
// Pure; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_DS_REQUEST_BODIES_H_
#define MIMI_TESTS_FUZZ_FUZZ_DS_REQUEST_BODIES_H_

#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>

#include "daemon/ds_request_bodies.h"
#include "mimi_portability/bytes.h"

namespace mimi {
namespace fuzz_ds_bodies {

template <typename Body, typename ParseFn>
std::string CheckOneBody(std::string_view name, std::string_view text,
                         ParseFn parse,
                         std::initializer_list<std::string_view> fields,
                         bool* accepted) {
  Result<Body> body = parse(text);
  if (!body.ok()) {
    const Status& s = body.status();
    if (s.code() != StatusCode::kMalformed) {
      return std::string(name) + ": rejected with a code other than malformed: " +
             s.ToString();
    }
    bool named = s.detail().starts_with("body: ");
    for (std::string_view f : fields) {
      named = named || s.detail().starts_with(std::string(f) + ": ");
    }
    if (!named) {
      return std::string(name) + ": error detail names no field: " + s.detail();
    }
    return "";
  }
  *accepted = true;
  const std::string again = daemon::SerializeBody(*body);
  Result<Body> reparsed = parse(again);
  if (!reparsed.ok()) {
    return std::string(name) + ": its own serialization " + again +
           " does not parse: " + reparsed.status().ToString();
  }
  if (!(*reparsed == *body)) {
    return std::string(name) + ": " + again + " parses to another value";
  }
  return "";
}

}  // namespace fuzz_ds_bodies

inline std::string CheckDsRequestBodies(ByteSpan input, bool* accepted) {
  const std::string_view text(reinterpret_cast<const char*>(input.data()),
                              input.size());
  bool any = false;
  try {
    for (std::string v : {
             fuzz_ds_bodies::CheckOneBody<daemon::CreateGroupBody>(
                 "CreateGroupBody", text, &daemon::ParseCreateGroupBody,
                 {"group_info", "ratchet_tree", "group_id"}, &any),
             fuzz_ds_bodies::CheckOneBody<daemon::CommitBody>(
                 "CommitBody", text, &daemon::ParseCommitBody,
                 {"commit", "ratchet_tree", "group_info"}, &any),
             fuzz_ds_bodies::CheckOneBody<daemon::MessageBody>(
                 "MessageBody", text, &daemon::ParseMessageBody, {"message"},
                 &any)}) {
      if (!v.empty()) return v;
    }
  } catch (const std::exception& e) {
    return std::string("DS request body: a parser threw: ") + e.what();
  }
  if (accepted != nullptr) *accepted = any;
  return "";
}

}  // namespace mimi

#endif  // MIMI_TESTS_FUZZ_FUZZ_DS_REQUEST_BODIES_H_
