// TestHttpsServer: an httplib::SSLServer on 127.0.0.1 at a free port, served
// from a background thread, for tests of HTTPS clients.
//
// Register handlers on server() before Start(); Start() binds to any free
// port and returns once the server accepts connections. The destructor stops
// the server and joins its thread. Handlers run on httplib's worker threads.
#ifndef MIMI_TESTING_HTTPS_SERVER_H_
#define MIMI_TESTING_HTTPS_SERVER_H_

#include <httplib.h>

#include <memory>
#include <thread>

#include "mimi_portability/status.h"
#include "testing/test_ca.h"

namespace mimi::testing {

class TestHttpsServer {
 public:
  explicit TestHttpsServer(const LeafCert& leaf);
  ~TestHttpsServer();
  TestHttpsServer(const TestHttpsServer&) = delete;
  TestHttpsServer& operator=(const TestHttpsServer&) = delete;

  httplib::Server& server() { return *server_; }
  // kInternal if the certificate did not load or no port could be bound.
  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_HTTPS_SERVER_H_
