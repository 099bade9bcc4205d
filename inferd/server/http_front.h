#pragma once

#include <cstddef>
#include <string>

#include "common/http/http_server.h"
#include "inferd/server/http_api.h"

namespace tpustack::inferd::server {

struct HttpFrontOptions {
  std::string listen;                 // HOST:PORT
  size_t max_body_bytes = 0;          // --payload-limit: refused with 413 while the body arrives
  int max_concurrent_requests = 512;  // requests being answered at once; more get 503 + Retry-After at once
  size_t max_file_bytes = 0;          // --max-file-bytes: the body limit of POST /v1/files instead
};

// tpustack's HTTP server in front of HttpApi. Bodies are read asynchronously, so clients that stall hold no
// thread; handlers run on a pool of one thread per concurrent request, since an inference request blocks
// while its batch runs. Everything but POST and the Files and Batch APIs (probes, /metrics, /info, OPTIONS,
// refusals) is answered on the reading thread: it answers while every worker waits for a batch.
class HttpFront {
 public:
  HttpFront(const HttpFrontOptions& options, HttpApi& api);

  // An Error when the address cannot be bound (or, over TLS, the certificate used).
  Result<void> start() { return server_.start(); }
  // Closes every connection and waits for running handlers.
  void stop() { server_.stop(); }

 private:
  tpustack::http::HttpServer server_;
};

}  // namespace tpustack::inferd::server
