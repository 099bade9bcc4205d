// tpu-extender: slice-aware gang placement for kube-scheduler (serve) and its what-if planner (plan).
#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/config/config_document.h"
#include "common/kube/cluster_config.h"
#include "common/logging/logging.h"
#include "extender/model/cluster_state.h"
#include "extender/plan/cluster_plan.h"
#include "extender/plan/object_list.h"
#include "extender/provisioning/provisioner_options.h"
#include "extender/service/extender_runtime.h"

namespace {

using namespace tpustack;

constexpr const char* kUsage =
    "usage:\n"
    "  tpu-extender serve [--config FILE] [--kubeconfig FILE] [--listen HOST:PORT] [--metrics-addr HOST:PORT]\n"
    "                     [--log-level LEVEL] [--provisioner gke|simulated|dry-run|none] [--gke-project P]\n"
    "                     [--gke-location L] [--gke-cluster C] [--pool-deletion-grace DURATION]\n"
    "                     [--simulated-node-delay DURATION] [--max-pool-operations N] [--cleanup-only]\n"
    "  tpu-extender plan --nodes FILE --pods FILE\n";

std::atomic<bool> stop_requested{false};

// --name VALUE pairs; throws std::invalid_argument on anything else.
std::map<std::string, std::string> read_flags(const std::vector<std::string>& args,
                                              const std::set<std::string>& known) {
  std::map<std::string, std::string> flags;
  for (std::size_t i = 0; i < args.size(); i += 2) {
    if (!known.contains(args[i])) throw std::invalid_argument("unknown option " + args[i]);
    if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
    flags[args[i]] = args[i + 1];
  }
  return flags;
}

int plan(const std::vector<std::string>& args) {
  auto flags = read_flags(args, {"--nodes", "--pods"});
  if (!flags.contains("--nodes") || !flags.contains("--pods"))
    throw std::invalid_argument("plan needs --nodes and --pods");
  extender::ClusterState state;
  for (const auto& node : extender::read_object_list(flags["--nodes"])) state.upsert_node(extender::parse_node(node));
  for (const auto& pod : extender::read_object_list(flags["--pods"])) state.upsert_pod(extender::parse_pod(pod));
  std::cout << extender::render_plan(extender::plan_cluster(state));
  return 0;
}

int serve(const std::vector<std::string>& args) {
  // The provisioner's flags first (CLI11, with boolean flags); the rest are the verbs' --name VALUE pairs.
  CLI::App provisioner_flags{"tpu-extender serve provisioner flags"};
  provisioner_flags.allow_extras();
  provisioning::ProvisionerOptions provisioning_options;
  provisioning::add_provisioner_flags(provisioner_flags, provisioning_options);
  provisioner_flags.parse(std::vector<std::string>(args.rbegin(), args.rend()));
  auto flags = read_flags(provisioner_flags.remaining(),
                          {"--config", "--kubeconfig", "--listen", "--metrics-addr", "--log-level"});
  config::ConfigDocument config;
  if (flags.contains("--config")) {
    config = config::ConfigDocument::load_file(flags["--config"]);
    std::set<std::string> known = {"listen", "metricsAddr", "logLevel", "kubeconfig"};
    known.insert(provisioning::provisioner_config_keys().begin(), provisioning::provisioner_config_keys().end());
    config.reject_unknown_keys(known);
  }
  provisioning::apply_provisioner_config(config, provisioner_flags, provisioning_options);
  auto setting = [&](const std::string& flag, const std::string& key, std::string fallback) {
    if (flags.contains(flag)) return flags[flag];
    return config.get_string(key).value_or(std::move(fallback));
  };
  logging::LoggingOptions log;
  log.level = setting("--log-level", "logLevel", "info");
  logging::setup_logging(log, "tpu-extender");

  std::string kubeconfig = setting("--kubeconfig", "kubeconfig", "");
  auto cluster = kubeconfig.empty() ? kube::in_cluster_config() : kube::load_kubeconfig(kubeconfig);
  extender::ServeOptions options;
  options.listen = setting("--listen", "listen", options.listen);
  options.metrics_addr = setting("--metrics-addr", "metricsAddr", options.metrics_addr);

  extender::ExtenderRuntime runtime(std::move(cluster), options);
  runtime.start();
  auto provisioner = provisioning::Provisioner::start(provisioning_options, runtime.client(), runtime.registry());
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  std::signal(SIGINT, [](int) { stop_requested = true; });
  for (int tick = 0; !stop_requested; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (tick % 25 == 0) runtime.service().refresh_gauges();  // slices and groups gauges every 5 s
  }
  spdlog::info("stopping");
  provisioner.reset();
  runtime.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  try {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "plan") return plan(rest);
    if (args[0] == "serve") return serve(rest);
    throw std::invalid_argument("unknown command " + args[0]);
  } catch (const std::invalid_argument& e) {
    std::cerr << "tpu-extender: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tpu-extender: " << e.what() << "\n";
    return 1;
  }
}
