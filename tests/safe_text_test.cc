#include "codec/safe_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codec/json_text.h"

namespace mimi::codec {
namespace {

TEST(SafeTextTest, KeepsPrintableAsciiAndWellFormedUtf8) {
  EXPECT_EQ(SafeText("/mimi-portability/v1/request?x=1"),
            "/mimi-portability/v1/request?x=1");
  EXPECT_EQ(SafeText("ex\xc3\xa4mple \xe2\x82\xac \xf0\x9f\x94\x91"),
            "ex\xc3\xa4mple \xe2\x82\xac \xf0\x9f\x94\x91");
}

TEST(SafeTextTest, EscapesInvalidUtf8ControlsAndBackslash) {
  EXPECT_EQ(SafeText("/\xff\xfe"), "/\\xff\\xfe");
  EXPECT_EQ(SafeText("/\xc3\x28"), "/\\xc3(");         // bad continuation
  EXPECT_EQ(SafeText("\x80"), "\\x80");                // lone continuation
  EXPECT_EQ(SafeText("\xc0\xaf"), "\\xc0\\xaf");       // overlong '/'
  EXPECT_EQ(SafeText("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(SafeText("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(SafeText("\xe2\x82"), "\\xe2\\x82");       // truncated
  EXPECT_EQ(SafeText("a\nb\rc\td"), "a\\x0ab\\x0dc\\x09d");
  EXPECT_EQ(SafeText(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(SafeText("a\\b"), "a\\x5cb");
}

TEST(SafeTextTest, CutsLongInput) {
  EXPECT_EQ(SafeText(std::string(10, 'a'), 4), "aaaa...");
  EXPECT_EQ(SafeText("abcd", 4), "abcd");
}

// The point of it all: whatever the bytes, the result goes into JSON.
TEST(SafeTextTest, EveryByteStringDumpsAsJson) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
    all.push_back(static_cast<char>(255 - i));
  }
  for (size_t start = 0; start < all.size(); start += 7) {
    const nlohmann::json j = {{"detail", SafeText(all.substr(start))}};
    EXPECT_NO_THROW((void)mimi::codec::DumpJson(j)) << start;
  }
}

}  // namespace
}  // namespace mimi::codec
