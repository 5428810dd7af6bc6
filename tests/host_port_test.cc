// codec::ParseHostPort, the one host[:port] parser behind the daemon's
// listen and peer settings and the DS hook base URL: every accepted form,
// the default port, the bounds of the port, and each refusal with its
// detail.
#include "codec/host_port.h"

#include <gtest/gtest.h>

#include <string>

namespace mimi::codec {
namespace {

TEST(HostPortTest, AcceptedForms) {
  EXPECT_EQ(*ParseHostPort("a.test", 443), (HostPort{"a.test", 443}));
  EXPECT_EQ(*ParseHostPort("a.test:80", 443), (HostPort{"a.test", 80}));
  EXPECT_EQ(*ParseHostPort("127.0.0.1:8443", 1),
            (HostPort{"127.0.0.1", 8443}));
  EXPECT_EQ(*ParseHostPort("[::1]:8443", 443), (HostPort{"::1", 8443}));
  EXPECT_EQ(*ParseHostPort("[::1]", 443), (HostPort{"::1", 443}));
  EXPECT_EQ(*ParseHostPort("[fe80::1%eth0]:1", 443),
            (HostPort{"fe80::1%eth0", 1}));
  // The host is kept as written; its users validate it.
  EXPECT_EQ(*ParseHostPort("A.Test:7", 443), (HostPort{"A.Test", 7}));
}

TEST(HostPortTest, PortBounds) {
  EXPECT_EQ(ParseHostPort("h:0", 443)->port, 0);  // "any": listeners only
  EXPECT_EQ(ParseHostPort("h:00080", 443)->port, 80);
  EXPECT_EQ(ParseHostPort("h:65535", 443)->port, 65535);
  for (const char* text : {"h:65536", "h:99999", "h:123456", "[::1]:70000",
                           "h:99999999999999999999"}) {
    Result<HostPort> r = ParseHostPort(text, 443);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().detail(),
              std::string("port out of range in '") + text + "'");
  }
}

TEST(HostPortTest, Refusals) {
  const struct {
    const char* text;
    const char* detail;
  } cases[] = {
      {"", "missing host in ''"},
      {":80", "missing host in ':80'"},
      {"[]:80", "missing host in '[]:80'"},
      {"a:", "bad port in 'a:'"},
      {"a:b", "bad port in 'a:b'"},
      {"a:-1", "bad port in 'a:-1'"},
      {"a:8 0", "bad port in 'a:8 0'"},
      {"a:+80", "bad port in 'a:+80'"},
      {"[::1]x", "bad port in '[::1]x'"},
      {"[::1]:", "bad port in '[::1]:'"},
      {"[::1", "unterminated '[' in '[::1'"},
      {"::1", "IPv6 address needs [brackets] in '::1'"},
      {"::1:80", "IPv6 address needs [brackets] in '::1:80'"},
      {"a:80:81", "IPv6 address needs [brackets] in 'a:80:81'"},
  };
  for (const auto& c : cases) {
    Result<HostPort> r = ParseHostPort(c.text, 443);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(r.status().detail(), c.detail) << c.text;
  }
}

}  // namespace
}  // namespace mimi::codec
