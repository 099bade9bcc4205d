#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/cli/command_line.h"
#include "common/logging/logging.h"
#include "inferd/cli/bench_command.h"
#include "inferd/cli/pull_command.h"
#include "inferd/cli/serve_command.h"

namespace {

constexpr std::string_view usage =
    "usage: inferd <command> [options]\n"
    "commands:\n"
    "  bench   measure embedding or reranking throughput of a model directory\n"
    "  pull    fetch models from a registry, a Hugging Face-style endpoint or a directory\n"
    "  serve   serve models over HTTP (TEI, OpenAI and Termite routes) and gRPC\n"
    "Run 'inferd <command> --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  // libgomp reads its waiting policy once, when it loads. Its default (spinning 300,000 rounds before sleeping)
  // starves the workers whenever the cores are shared (measured: batch 1 x 128 on 2 busy cores took 940 ms instead
  // of 35 ms), and not spinning at all makes every meeting of the threads a futex wake-up (batch 1 x 16: 390
  // instead of 540 sequences/s). A short spin keeps both: unless the operator chose, inferd restarts itself once
  // with 10,000 rounds (tens of microseconds; on 2 busy cores as fast as not spinning).
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr) {
    setenv("GOMP_SPINCOUNT", "10000", 1);
    execv("/proc/self/exe", argv);
  }
  tpustack::logging::setup_logging({}, "inferd");
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args.front() == "--help" || args.front() == "-h")) {
    std::cout << usage;
    return 0;
  }
  if (args.empty()) {
    std::cerr << "inferd: a command is required\n\n" << usage;
    return tpustack::cli::kUsageError;
  }
  const std::string& command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "bench") return inferd::cli::run_bench(rest);
  if (command == "pull") return inferd::cli::run_pull(rest);
  if (command == "serve") return inferd::cli::run_serve(rest);
  std::cerr << "inferd: unknown command '" << command << "'\n\n" << usage;
  return tpustack::cli::kUsageError;
}
