#include "daemon/ds_from_config.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "ds_http/http_delivery_service.h"

namespace mimi::daemon {
namespace {

Status SecretError(const std::string& path, const std::string& what) {
  return InvalidArgumentError("config: ds.secret_file: " + path + ": " + what);
}

}  // namespace

Result<crypto::SecretBytes> ReadSecretFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return SecretError(path, "no such file");
  }
  if ((st.st_mode & 077) != 0) {
    return SecretError(path, "must be readable by its owner only (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return SecretError(path, "cannot read");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' ||
                     text[end - 1] == ' ' || text[end - 1] == '\t')) {
    --end;
  }
  crypto::SecretBytes secret(std::string_view(text).substr(0, end));
  crypto::Cleanse(text.data(), text.size());
  if (secret.size() < ds_http::HookClient::kMinSecretBytes) {
    return SecretError(path, "the secret must be at least " +
                                 std::to_string(ds_http::HookClient::kMinSecretBytes) +
                                 " bytes (e.g. openssl rand -hex 32)");
  }
  return secret;
}

Result<std::unique_ptr<DeliveryService>> CreateHttpDeliveryService(
    const Config& config, const Clock& clock) {
  const DsConfig& ds = config.ds;
  if (ds.mode != "http") {
    return InvalidArgumentError("config: ds.mode: is \"" + ds.mode +
                                "\", not \"http\"");
  }
  MIMI_ASSIGN_OR_RETURN(crypto::SecretBytes secret,
                        ReadSecretFile(ds.secret_file));
  ds_http::HookClientOptions options;
  options.base_url = ds.base_url;
  options.secret = std::move(secret);
  options.timeout = std::chrono::milliseconds(ds.timeout_ms);
  options.ca_file = ds.ca_file;
  auto created = ds_http::HttpDeliveryService::Create(std::move(options), clock);
  if (!created.ok()) {
    return InvalidArgumentError("config: ds.base_url: " +
                                created.status().detail());
  }
  return std::unique_ptr<DeliveryService>(std::move(created).value());
}

}  // namespace mimi::daemon
