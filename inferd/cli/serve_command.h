#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace tpustack::inferd::cli {

// `inferd serve [--models-dir DIR] [--model NAME=DIR ...] [--listen HOST:PORT] [--grpc-listen HOST:PORT]
// [--backend auto|cpu|pjrt|xla:tpu|xla:cuda|xla:cpu] [--pjrt-plugin PATH] [--warmup] [--threads N] [--max-batch-tokens
// N] [--max-batch-requests N] [--max-queue N]
// [--preload a,b] [--memory-budget BYTES] [--max-concurrent-requests N] [--log-level LEVEL]`: serves until SIGTERM
// or SIGINT (SIGHUP is ignored), drains within the grace period, returns 0. Adds the flags to `command`, inferd's
// `serve` subcommand; the returned function runs it once the command line is parsed and returns the exit code.
std::function<int()> add_serve_command(CLI::App& command);

}  // namespace tpustack::inferd::cli
