// Fuzz check for what the admin API (daemon/admin_routes.h,
// admin_api/admin_views.h) parses from a request. Its requests carry no JSON
// bodies (retry and abort are bodiless POSTs); the untrusted bytes are the
// migration id in the path and the list's query parameters. Same shape as
// fuzz::CheckMessage: "" or a violation, and whether the input was accepted.
//
// The input is what follows /admin/v1/migrations/: "<id>?<query>". The id
// goes through store::ParseMigrationId: refused as kMalformed naming the
// migration id, or accepted as 64 lowercase hex digits equal to the input
// up to case. The query is split into parameters as the HTTP server does
// (httplib) and, taking each parameter's first value as the routes do, goes
// through admin_api::ParseListFilter: refused as kMalformed naming the
// parameter, or accepted with a limit in 1..kMaxListLimit, and the filter
// written back as parameters parses to the same filter. Nothing may throw.
// Pure; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_ADMIN_REQUEST_H_
#define MIMI_TESTS_FUZZ_FUZZ_ADMIN_REQUEST_H_

#include <httplib.h>

#include <cctype>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "admin_api/admin_views.h"
#include "mimi_portability/bytes.h"
#include "store/records.h"

namespace mimi {
namespace fuzz_admin_request {

inline std::string CheckId(std::string_view text, bool* accepted) {
  Result<std::string> id = store::ParseMigrationId(text);
  if (!id.ok()) {
    if (id.status().code() != StatusCode::kMalformed ||
        !id.status().detail().starts_with("migration id")) {
      return "migration id: unexpected rejection: " + id.status().ToString();
    }
    return "";
  }
  *accepted = true;
  if (id->size() != 64 || id->size() != text.size()) {
    return "migration id: accepted with another length: " + *id;
  }
  for (size_t i = 0; i < id->size(); ++i) {
    const char c = (*id)[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ||
        std::tolower(static_cast<unsigned char>(text[i])) != c) {
      return "migration id: accepted as another id: " + *id;
    }
  }
  return "";
}

using Params = std::optional<std::string>;

inline bool SameFilter(const store::ListFilter& a, const store::ListFilter& b) {
  return a.role == b.role && a.state == b.state && a.group_id == b.group_id &&
         a.limit == b.limit;
}

inline std::string CheckQuery(const std::string& query, bool* accepted) {
  httplib::Params params;
  httplib::detail::parse_query_text(query, params);
  auto first = [&params](const char* name) -> Params {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
  Result<store::ListFilter> filter = admin_api::ParseListFilter(
      first("state"), first("role"), first("group"), first("limit"));
  if (!filter.ok()) {
    const std::string& d = filter.status().detail();
    if (filter.status().code() != StatusCode::kMalformed ||
        !(d.starts_with("state: ") || d.starts_with("role: ") ||
          d.starts_with("group: ") || d.starts_with("limit: "))) {
      return "list filter: unexpected rejection: " +
             filter.status().ToString();
    }
    return "";
  }
  *accepted = true;
  if (filter->limit < 1 || filter->limit > admin_api::kMaxListLimit) {
    return "list filter: accepted limit " + std::to_string(filter->limit);
  }
  auto text = [](auto v, auto name_of) -> Params {
    if (!v) return std::nullopt;
    return std::string(name_of(*v));
  };
  Result<store::ListFilter> again = admin_api::ParseListFilter(
      text(filter->state, [](auto s) { return store::StateName(s); }),
      text(filter->role, [](auto r) { return store::RoleName(r); }),
      text(filter->group_id, [](const Bytes& g) { return ToHex(g); }),
      std::to_string(filter->limit));
  if (!again.ok()) {
    return "list filter: written back, it does not parse: " +
           again.status().ToString();
  }
  if (!SameFilter(*again, *filter)) {
    return "list filter: written back, it parses to another filter";
  }
  return "";
}

}  // namespace fuzz_admin_request

inline std::string CheckAdminRequest(ByteSpan input, bool* accepted) {
  const std::string target(reinterpret_cast<const char*>(input.data()),
                           input.size());
  const size_t q = target.find('?');
  bool any = false;
  try {
    std::string v = fuzz_admin_request::CheckId(
        std::string_view(target).substr(0, q), &any);
    if (v.empty() && q != std::string::npos) {
      v = fuzz_admin_request::CheckQuery(target.substr(q + 1), &any);
    }
    if (!v.empty()) return v;
  } catch (const std::exception& e) {
    return std::string("admin request: a parser threw: ") + e.what();
  }
  if (accepted != nullptr) *accepted = any;
  return "";
}

}  // namespace mimi

#endif  // MIMI_TESTS_FUZZ_FUZZ_ADMIN_REQUEST_H_
