// The round-trip property every wire decoder must keep, shared by the
// libFuzzer targets (tests/fuzz/fuzz_target.cc), the corpus replay test
// (tests/fuzz_corpus_test.cc) and the byte-flip test (tests/messages_test.cc),
// so that all three check exactly the same thing:
//
//   - an input is either rejected with kMalformed (or, for a domain field
//     that is not a host name, kInvalidArgument "invalid-domain") and a
//     detail that starts with the struct's name
//     ("MigrationResponse.nonce: truncated"), or
//   - it is accepted, and re-encoding the decoded value gives back exactly
//     the input (one serialization per message, which signatures rely on),
//     and for a signed struct ToBeSigned() is the input minus its trailing
//     signature vector.
//
// The checks return "" when the property holds and a description of the
// violation otherwise; the fuzz targets abort on a violation, tests report it.
// If `accepted` is given, it is set to whether the decoder accepted the input
// (so a corpus can be checked to hold more than rejected inputs).
// Pure functions; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_CHECKS_H_
#define MIMI_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <algorithm>
#include <string>
#include <string_view>

#include "codec/reader.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/messages.h"
#include "mimi_portability/status.h"

namespace mimi::fuzz {

// The generic core, for any decoder with this shape: `decode(input)` gives a
// Result<T>, `encode(value)` a Result<Bytes>. `name` is the struct name that
// error details must start with. Other modules' decoders (e.g. MLSMessage)
// plug in here with their own decode and encode functions.
template <typename DecodeFn, typename EncodeFn>
std::string CheckRoundTrip(std::string_view name, ByteSpan input,
                           DecodeFn decode, EncodeFn encode,
                           bool* accepted = nullptr) {
  auto decoded = decode(input);
  if (accepted != nullptr) *accepted = decoded.ok();
  if (!decoded.ok()) {
    const Status& s = decoded.status();
    const bool bad_domain = s.code() == StatusCode::kInvalidArgument &&
                            s.reason() == "invalid-domain";
    if (s.code() != StatusCode::kMalformed && !bad_domain) {
      return std::string(name) +
             ": rejected with a code other than malformed: " + s.ToString();
    }
    if (!s.detail().starts_with(name) || s.detail().size() <= name.size() ||
        (s.detail()[name.size()] != '.' && s.detail()[name.size()] != ':')) {
      return std::string(name) +
             ": error detail does not name the struct: " + s.detail();
    }
    return "";
  }
  auto encoded = encode(*decoded);
  if (!encoded.ok()) {
    return std::string(name) + ": accepted input does not re-encode: " +
           encoded.status().ToString();
  }
  if (!std::equal(encoded->begin(), encoded->end(), input.begin(),
                  input.end())) {
    return std::string(name) + ": re-encoding differs from the input: in " +
           ToHex(input) + " out " + ToHex(*encoded);
  }
  return "";
}

// ToBeSigned must be the input up to the signature vector, and that vector
// must be the last thing in the input and hold exactly `m.signature`.
template <typename T>
std::string CheckToBeSigned(ByteSpan input, const T& m) {
  const std::string name(MessageName<T>());
  auto tbs = ToBeSigned(m);
  if (!tbs.ok())
    return name + ": ToBeSigned failed: " + tbs.status().ToString();
  if (tbs->size() > input.size() ||
      !std::equal(tbs->begin(), tbs->end(), input.begin())) {
    return name + ": ToBeSigned is not a prefix of the encoding";
  }
  codec::Reader rest(input.subspan(tbs->size()));
  ByteSpan signature;
  if (!rest.ReadOpaqueView("signature", &signature).ok() || !rest.empty() ||
      !std::equal(signature.begin(), signature.end(), m.signature.begin(),
                  m.signature.end())) {
    return name +
           ": the encoding after ToBeSigned is not exactly the signature";
  }
  return "";
}

// The property for one of the wire messages of messages.h.
template <typename T>
std::string CheckMessage(ByteSpan input, bool* accepted = nullptr) {
  std::string violation = CheckRoundTrip(
      MessageName<T>(), input, [](ByteSpan b) { return Decode<T>(b); },
      [](const T& m) { return Encode(m); }, accepted);
  if (!violation.empty()) return violation;
  if constexpr (requires(const T& m) { ToBeSigned(m); }) {
    auto m = Decode<T>(input);
    if (m.ok()) return CheckToBeSigned(input, *m);
  }
  return "";
}

}  // namespace mimi::fuzz

#endif  // MIMI_TESTS_FUZZ_FUZZ_CHECKS_H_
