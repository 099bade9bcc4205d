#include "inferd/cli/pull_command.h"

#include <spdlog/spdlog.h>

#include "common/cli/command_line.h"
#include "common/logging/logging.h"
#include "inferd/registry/model_pull.h"

namespace inferd::cli {

int run_pull(const std::vector<std::string>& args) {
  CLI::App app("Fetch models into a directory inferd serves from, verified by sha256", "inferd pull");
  std::string registry, hub, from_dir, log_level = "info";
  registry::PullOptions options;
  auto* registry_flag = app.add_option("--registry", registry, "registry base URL (index.json, manifests/, blobs/)");
  auto* hub_flag = app.add_option("--hf-endpoint", hub, "Hugging Face-style endpoint: /{repo}/resolve/{revision}/..");
  auto* dir_flag = app.add_option("--from-dir", from_dir, "a local directory laid out as a registry");
  registry_flag->excludes(hub_flag, dir_flag);
  hub_flag->excludes(dir_flag);
  app.add_option("--models", options.models, "models to fetch, comma-separated")->required()->delimiter(',');
  app.add_option("--variant", options.variant, "weights variant")->check(CLI::IsMember({"f32", "f16", "i8"}));
  app.add_option("--dest", options.dest, "where the model directories go")->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  if (auto code = tpustack::cli::parse_command_line(app, args)) return *code;
  if (registry.empty() && hub.empty() && from_dir.empty()) {
    return tpustack::cli::usage_error(app, "one of --registry URL, --hf-endpoint URL or --from-dir DIR is needed");
  }
  tpustack::logging::setup_logging({log_level, false}, "inferd");

  std::unique_ptr<registry::BlobSource> source = !registry.empty() ? registry::make_http_source(registry)
                                                 : !hub.empty()    ? registry::make_http_source(hub)
                                                                   : registry::make_directory_source(from_dir);
  auto report =
      hub.empty() ? registry::pull_from_registry(*source, options) : registry::pull_from_hub(*source, options);
  if (!report) {
    spdlog::error("pull failed: {}", report.error().message);
    return 1;
  }
  spdlog::info("pull done: {} files fetched ({} bytes), {} already present and valid", report->downloaded,
               report->bytes, report->skipped);
  return 0;
}

}  // namespace inferd::cli
