#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/free_port.h"

namespace tpustack::inferd::testing {

using tpustack::testing::ChildProcess;
using tpustack::testing::free_port;

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// Where a served inferd runs: ports chosen ahead (0: a free one now), e.g. for TPU_WORKER_HOSTNAMES, which names
// every worker's port before any starts; and environment entries (NAME=value) beside the test's own.
struct Placement {
  int http_port = 0;
  int grpc_port = 0;
  std::vector<std::string> env;
};

// `inferd serve` running as a real process on free local ports, over the tiny models the engine's tests generate.
class ServedInferd {
 public:
  // Extra flags after the ports; waits for the "inferd serving" line (and "ready" when `wait_ready`).
  explicit ServedInferd(const std::vector<std::string>& flags, bool wait_ready = true, Placement placement = {});

  HttpResult get(const std::string& path);
  HttpResult post(const std::string& path, const std::string& body,
                  const std::map<std::string, std::string>& headers = {});
  // Any method; the body (when not empty) goes with `content_type`.
  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& content_type = "");

  // A raw client that sends the request's headers, then its body, and hangs up without reading the answer.
  void post_and_hang_up(const std::string& path, const std::string& body);

  int http_port() const { return http_port_; }
  const std::string& grpc_address() const { return grpc_address_; }
  ChildProcess& process() { return *process_; }

  static std::string tiny_models();  // empty when the build could not generate them
  // Flags that serve the tiny f32-mean model as the only one, preloaded, on one engine thread.
  static std::vector<std::string> one_tiny_model();
  static std::string binary();

 private:
  int http_port_ = 0;
  std::string http_base_;
  std::string grpc_address_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace tpustack::inferd::testing
