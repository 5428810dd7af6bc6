// HttpReply: what a test client got for one request, a definite HTTP answer
// or none (connection refused, reset, timed out), with the JSON `error` of a
// refusal lifted out; and PostBytes, a POST of raw bytes that returns one.
// Shared by the clients that keep retrying until a daemon answers (the
// chaos client of the kill soak, the several-instance test).
//
// Header-only; stateless.
#ifndef MIMI_TESTING_HTTP_REPLY_H_
#define MIMI_TESTING_HTTP_REPLY_H_

#include <httplib.h>

#include <string>

#include "codec/json_text.h"
#include "mimi_portability/bytes.h"

namespace mimi::testing {

struct HttpReply {
  bool answered = false;
  int status = 0;
  std::string body;
  std::string error;  // JSON `error`, or the transport error
};

inline HttpReply ToHttpReply(const httplib::Result& r) {
  HttpReply out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.answered = true;
  out.status = r->status;
  out.body = r->body;
  auto j = codec::ParseJson(r->body);
  if (j.is_object()) out.error = j.value("error", "");
  return out;
}

inline HttpReply PostBytes(httplib::Client& c, const std::string& path,
                           const Bytes& body, const char* content_type,
                           const httplib::Headers& headers = {}) {
  return ToHttpReply(c.Post(path.c_str(), headers,
                            reinterpret_cast<const char*>(body.data()),
                            body.size(), content_type));
}

}  // namespace mimi::testing

#endif  // MIMI_TESTING_HTTP_REPLY_H_
