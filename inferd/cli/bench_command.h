#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace tpustack::inferd::cli {

// `inferd bench --model DIR [--batch N] [--seq-len N | --texts FILE] [--threads N] [--seconds S]
// [--variant f32|bf16|i8|auto] [--backend cpu|pjrt|auto|xla:... --pjrt-plugin PATH]`: prints one JSON line with
// throughput and latency. With `--generate` (a decoder
// directory) it measures text generation instead: cli/generation_bench.h. Adds the flags to `command`,
// inferd's `bench` subcommand; the returned function runs it once the command line is parsed.
std::function<int()> add_bench_command(CLI::App& command);

}  // namespace tpustack::inferd::cli
