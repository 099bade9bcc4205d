#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "inferd/batching/batch_policy.h"
#include "inferd/engine/pjrt/pjrt_runtime.h"
#include "inferd/server/backend_selection.h"

namespace tpustack::inferd::server {

// What /info and the gRPC Info call report about this process.
struct ServerInfo {
  std::string version;
  std::string backend;
  WorkerRole worker;
  std::string accelerator_type;
  batching::BatchLimits limits;
  size_t max_queue = 0;
  size_t max_client_batch_size = 0;
  std::string variant;        // as asked: "f32", "bf16", "i8" or "auto" (each model's own is in /info's models)
  bool auto_truncate = true;  // --auto-truncate: what `truncate` is when a request does not say
  size_t max_concurrent_requests = 512;
  size_t tokenization_workers = 0;  // request threads tokenize: as many as requests answered at once
  size_t max_queue_tokens = 0;
  std::shared_ptr<engine::pjrt::PjrtRuntime> pjrt;  // the plugin encoders run on; null on the cpu backend
};

}  // namespace tpustack::inferd::server
