// SecretBytes: an owned byte buffer for private key material that is wiped
// (OPENSSL_cleanse, which the compiler may not elide) when it is destroyed or
// overwritten, so secrets do not linger in freed heap memory.
//
// Move-only so that a secret is never silently duplicated. Not synchronised.
#ifndef MIMI_CRYPTO_SECRET_BYTES_H_
#define MIMI_CRYPTO_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mimi_portability/bytes.h"

namespace mimi::crypto {

// Wipes the bytes in place.
void Cleanse(void* data, size_t size);

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(ByteSpan data) : data_(data.begin(), data.end()) {}
  explicit SecretBytes(std::string_view data)
      : data_(data.begin(), data.end()) {}
  ~SecretBytes() { Wipe(); }

  SecretBytes(SecretBytes&& other) noexcept : data_(std::move(other.data_)) {
    other.data_.clear();
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      Wipe();
      data_ = std::move(other.data_);
      other.data_.clear();
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  ByteSpan span() const { return data_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_.data()), data_.size()};
  }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

 private:
  void Wipe() {
    if (!data_.empty()) Cleanse(data_.data(), data_.size());
    data_.clear();
  }

  Bytes data_;
};

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_SECRET_BYTES_H_
