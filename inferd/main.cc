#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <utility>
#include <vector>

#include "common/cli/command_line.h"
#include "common/logging/logging.h"
#include "inferd/cli/bench_command.h"
#include "inferd/cli/pull_command.h"
#include "inferd/cli/serve_command.h"

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
  (void)tpustack::logging::setup_logging({}, "inferd");  // the defaults always parse
  CLI::App app{"inferd: embeddings and reranking over HTTP (TEI, OpenAI and Termite routes) and gRPC", "inferd"};
  app.require_subcommand(1);
  const std::vector<std::pair<CLI::App*, std::function<int()>>> commands = [&app] {
    auto* bench = app.add_subcommand(
        "bench", "measure a model directory: embedding or reranking throughput, or with --generate text generation");
    auto* pull =
        app.add_subcommand("pull", "fetch models from a registry, a Hugging Face-style endpoint or a directory");
    auto* serve = app.add_subcommand("serve", "serve models over HTTP (TEI, OpenAI and Termite routes) and gRPC");
    return std::vector<std::pair<CLI::App*, std::function<int()>>>{
        {bench, tpustack::inferd::cli::add_bench_command(*bench)},
        {pull, tpustack::inferd::cli::add_pull_command(*pull)},
        {serve, tpustack::inferd::cli::add_serve_command(*serve)}};
  }();
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  for (const auto& [command, run] : commands) {
    if (*command) return run();
  }
  return tpustack::cli::kUsageError;  // require_subcommand(1) leaves none unparsed
}
