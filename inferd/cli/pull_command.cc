#include "inferd/cli/pull_command.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "common/cli/command_line.h"
#include "common/logging/logging.h"
#include "inferd/registry/model_pull.h"

namespace tpustack::inferd::cli {

namespace {

struct PullFlags {
  std::string registry, hub, from_dir, log_level = "info";
  registry::PullOptions options;
};

int run_pull(const CLI::App& command, const PullFlags& flags) {
  if (flags.registry.empty() && flags.hub.empty() && flags.from_dir.empty()) {
    return tpustack::cli::usage_error(command, "one of --registry URL, --hf-endpoint URL or --from-dir DIR is needed");
  }
  if (auto logged = tpustack::logging::setup_logging({flags.log_level, false}, "inferd"); !logged) {
    return tpustack::cli::usage_error(command, logged.error().message);
  }

  std::unique_ptr<registry::BlobSource> source = !flags.registry.empty() ? registry::make_http_source(flags.registry)
                                                 : !flags.hub.empty()    ? registry::make_http_source(flags.hub)
                                                                      : registry::make_directory_source(flags.from_dir);
  auto report = flags.hub.empty() ? registry::pull_from_registry(*source, flags.options)
                                  : registry::pull_from_hub(*source, flags.options);
  if (!report) {
    spdlog::error("pull failed: {}", report.error().message);
    return 1;
  }
  spdlog::info("pull done: {} files fetched ({} bytes), {} already present and valid", report->downloaded,
               report->bytes, report->skipped);
  return 0;
}

}  // namespace

std::function<int()> add_pull_command(CLI::App& command) {
  auto flags = std::make_shared<PullFlags>();
  auto* registry_flag =
      command.add_option("--registry", flags->registry, "registry base URL (index.json, manifests/, blobs/)");
  auto* hub_flag =
      command.add_option("--hf-endpoint", flags->hub, "Hugging Face-style endpoint: /{repo}/resolve/{revision}/..");
  auto* dir_flag = command.add_option("--from-dir", flags->from_dir, "a local directory laid out as a registry");
  registry_flag->excludes(hub_flag, dir_flag);
  hub_flag->excludes(dir_flag);
  command.add_option("--models", flags->options.models, "models to fetch, comma-separated")->required()->delimiter(',');
  command.add_option("--variant", flags->options.variant, "weights variant")
      ->check(CLI::IsMember({"f32", "f16", "i8"}));
  command.add_option("--dest", flags->options.dest, "where the model directories go")->required();
  command.add_option("--log-level", flags->log_level, "trace, debug, info, warn, error");
  return [&command, flags] { return run_pull(command, *flags); };
}

}  // namespace tpustack::inferd::cli
