// TestCa: a throw-away certificate authority for tests that need real,
// verified TLS (key documents, daemons talking HTTPS to each other).
//
// Create() writes a self-signed CA (P-256, valid two days) into a directory;
// IssueLeaf() writes a server certificate signed by it for the given DNS
// names, by default also with an IP SAN for 127.0.0.1 (for clients that
// connect to loopback by address and check that address); peers are checked
// against their domain (keys/peer_client.h), and kDnsOnly leaves the IP SAN
// out to prove it. Files are PEM; keys are
// unencrypted. Uses the openssl command-line tool, so nothing here links
// OpenSSL. The directory is the caller's (usually a TempDir).
//
// Not synchronised; create leaves before starting threads that use them.
#ifndef MIMI_TESTING_TEST_CA_H_
#define MIMI_TESTING_TEST_CA_H_

#include <filesystem>
#include <string>
#include <vector>

#include "mimi_portability/status.h"

namespace mimi::testing {

struct LeafCert {
  std::filesystem::path cert_path;  // leaf certificate (PEM)
  std::filesystem::path key_path;   // its private key (PEM)
};

class TestCa {
 public:
  // `name` ends up in the CA's subject and file names, so two CAs in one
  // directory do not collide.
  static Result<TestCa> Create(const std::filesystem::path& dir,
                               const std::string& name = "mimi-test-ca");

  const std::filesystem::path& ca_cert_path() const { return ca_cert_; }

  enum class Sans { kDnsAndLoopbackIp, kDnsOnly };

  // A leaf for `dns_names` (the first is also the subject CN), plus IP SAN
  // 127.0.0.1 unless `sans` is kDnsOnly. `leaf_name` names the files.
  Result<LeafCert> IssueLeaf(const std::string& leaf_name,
                             const std::vector<std::string>& dns_names,
                             Sans sans = Sans::kDnsAndLoopbackIp) const;

 private:
  TestCa(std::filesystem::path dir, std::filesystem::path cert,
         std::filesystem::path key)
      : dir_(std::move(dir)),
        ca_cert_(std::move(cert)),
        ca_key_(std::move(key)) {}

  std::filesystem::path dir_;
  std::filesystem::path ca_cert_;
  std::filesystem::path ca_key_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_TEST_CA_H_
