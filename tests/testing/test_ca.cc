#include "testing/test_ca.h"

#include <fstream>

#include "testing/command.h"

namespace mimi::testing {
namespace {

Status Run(const std::string& what, const std::string& cmd) {
  CommandResult r = RunCommand(cmd + " 2>&1");
  if (r.exit_code != 0) {
    return InternalError(what + " failed (exit " + std::to_string(r.exit_code) +
                         "): " + r.output);
  }
  return Status::Ok();
}

}  // namespace

Result<TestCa> TestCa::Create(const std::filesystem::path& dir,
                              const std::string& name) {
  auto cert = dir / (name + ".pem");
  auto key = dir / (name + ".key");
  MIMI_RETURN_IF_ERROR(
      Run("creating test CA",
          "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
          "-nodes -days 2 -subj " +
              ShellQuote("/CN=" + name) +
              " -addext basicConstraints=critical,CA:TRUE"
              " -addext keyUsage=critical,keyCertSign,cRLSign"
              " -keyout " +
              ShellQuote(key.string()) + " -out " + ShellQuote(cert.string())));
  return TestCa(dir, cert, key);
}

Result<LeafCert> TestCa::IssueLeaf(
    const std::string& leaf_name,
    const std::vector<std::string>& dns_names, Sans sans) const {
  if (dns_names.empty()) return InvalidArgumentError("leaf needs a DNS name");
  LeafCert leaf{dir_ / (leaf_name + ".pem"), dir_ / (leaf_name + ".key")};
  auto csr = dir_ / (leaf_name + ".csr");
  auto ext = dir_ / (leaf_name + ".ext");
  {
    std::ofstream f(ext);
    f << "basicConstraints=critical,CA:FALSE\n"
         "keyUsage=critical,digitalSignature\n"
         "extendedKeyUsage=serverAuth\n"
         "subjectAltName=";
    std::string names;
    for (const auto& n : dns_names) names += "DNS:" + n + ",";
    if (sans == Sans::kDnsAndLoopbackIp) names += "IP:127.0.0.1,";
    names.pop_back();
    f << names << "\n";
    if (!f) return InternalError("cannot write " + ext.string());
  }
  MIMI_RETURN_IF_ERROR(
      Run("creating leaf key and CSR",
          "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
          "-subj " +
              ShellQuote("/CN=" + dns_names.front()) + " -keyout " +
              ShellQuote(leaf.key_path.string()) + " -out " +
              ShellQuote(csr.string())));
  MIMI_RETURN_IF_ERROR(Run(
      "signing leaf",
      "openssl x509 -req -days 2 -set_serial 0x$(openssl rand -hex 8) -in " +
          ShellQuote(csr.string()) + " -CA " + ShellQuote(ca_cert_.string()) +
          " -CAkey " + ShellQuote(ca_key_.string()) + " -extfile " +
          ShellQuote(ext.string()) + " -out " +
          ShellQuote(leaf.cert_path.string())));
  return leaf;
}

}  // namespace mimi::testing
