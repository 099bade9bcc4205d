#pragma once

#include <string>
#include <vector>

namespace inferd::cli {

// `inferd serve [--models-dir DIR] [--model NAME=DIR ...] [--listen HOST:PORT] [--grpc-listen HOST:PORT]
// [--backend auto|cpu|cuda|tpu] [--threads N] [--max-batch-tokens N] [--max-batch-requests N] [--max-queue N]
// [--preload a,b] [--memory-budget BYTES] [--max-concurrent-requests N] [--log-level LEVEL]`: serves until SIGTERM
// or SIGINT (SIGHUP is ignored), drains within the grace period, returns 0.
int run_serve(const std::vector<std::string>& args);

}  // namespace inferd::cli
