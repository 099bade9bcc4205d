// tpu-extender: slice-aware gang placement for kube-scheduler (serve) and its what-if planner (plan).
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/cli/command_line.h"
#include "common/config/byte_size.h"
#include "common/config/config_document.h"
#include "common/config/duration.h"
#include "common/config/setting_resolver.h"
#include "common/files/file_text.h"
#include "common/http/http_server.h"
#include "common/kube/cluster_config.h"
#include "common/lifecycle/shutdown_signals.h"
#include "common/logging/logging.h"
#include "extender/admission/admission_webhook.h"
#include "extender/model/cluster_state.h"
#include "extender/plan/cluster_plan.h"
#include "extender/plan/object_list.h"
#include "extender/provisioner/provisioner_options.h"
#include "extender/service/extender_runtime.h"

namespace {

using namespace tpustack;

struct PlanOptions {
  std::string nodes;
  std::string pods;
};

// Reports an error that stops the command on stderr; returns the exit status.
int report_failure(const Error& error) {
  std::cerr << "tpu-extender: " << error.message << "\n";
  return 1;
}

// Reads the object list in `path` and hands each object, as `parse` reads it, to `add`; an Error names the file.
template <typename Parse, typename Add>
Result<void> add_objects(const std::string& path, const char* what, Parse parse, Add add) {
  auto text = files::read_file_text(path, what);
  if (!text) return text.error();
  auto objects = extender::parse_object_list(*text, path);
  if (!objects) return objects.error();
  for (const auto& object : *objects) {
    auto parsed = parse(object);
    if (!parsed) return Error{path + ": " + parsed.error().message};
    add(std::move(*parsed));
  }
  return {};
}

int plan(const PlanOptions& options) {
  extender::ClusterState state;
  if (auto added = add_objects(options.nodes, "node list", extender::parse_node,
                               [&](extender::TpuNode node) { state.upsert_node(std::move(node)); });
      !added) {
    return report_failure(added.error());
  }
  if (auto added = add_objects(options.pods, "pod list", extender::parse_pod,
                               [&](extender::TpuPod pod) { state.upsert_pod(std::move(pod)); });
      !added) {
    return report_failure(added.error());
  }
  std::cout << extender::render_plan(extender::plan_cluster(state));
  return 0;
}

struct ServeFlags {
  std::string config;
  std::string kubeconfig;
  std::string listen;
  std::string metrics_addr;
  std::string log_level;
  std::string log_format;
  std::string group_timeout;
  std::string tls_cert_file;
  std::string tls_private_key_file;
  std::string client_ca_file;
  bool debug_endpoints = false;
  std::string max_request_bytes;
  int max_in_flight = 0;
  std::vector<std::string> scheduler_names;
  std::string webhook_listen;
  std::string webhook_cert_file;
  std::string webhook_key_file;
  std::string webhook_scheduler_name;
  provisioning::ProvisionerOptions provisioning;
};

void add_serve_flags(CLI::App& serve, ServeFlags& flags) {
  serve.add_option("--config", flags.config, "YAML config file; flags override its keys");
  serve.add_option("--kubeconfig", flags.kubeconfig, "kubeconfig file (default: the in-cluster service account)");
  serve.add_option("--listen", flags.listen, "HOST:PORT of the extender verbs (0.0.0.0:8888)");
  serve.add_option("--metrics-addr", flags.metrics_addr, "HOST:PORT of /metrics, /healthz, /readyz (0.0.0.0:8080)");
  serve.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error (info)");
  serve.add_option("--log-format", flags.log_format, "text, or json for one JSON object per line (text)");
  serve.add_option("--group-timeout", flags.group_timeout,
                   "Release a group's reserved slice when not all its pods arrived within this; 0: never (10m)");
  serve.add_option("--tls-cert-file", flags.tls_cert_file, "PEM certificate chain: serve the verbs over HTTPS");
  serve.add_option("--tls-private-key-file", flags.tls_private_key_file, "PEM private key of --tls-cert-file");
  serve.add_option("--client-ca-file", flags.client_ca_file,
                   "PEM CA bundle: refuse verb connections without a client certificate it signed (needs TLS)");
  serve.add_flag("--debug-endpoints", flags.debug_endpoints, "Serve GET /debug/slices on the verbs port (off)");
  serve.add_option("--max-request-bytes", flags.max_request_bytes,
                   "Largest verb request body, e.g. 48Mi; larger ones get 413 before they are read (48Mi)");
  serve.add_option("--max-in-flight", flags.max_in_flight,
                   "Verb requests handled at once; more get 503 with Retry-After at once (64)");
  serve.add_option("--scheduler-name", flags.scheduler_names,
                   "A kube-scheduler profile (spec.schedulerName) whose TPU pods tpu-extender binds and preempts for; "
                   "repeat for several (tpu-scheduler)");
  serve.add_option("--webhook-listen", flags.webhook_listen,
                   "HOST:PORT of the mutating admission webhook, HTTPS POST /mutate (off when not given)");
  serve.add_option("--webhook-cert-file", flags.webhook_cert_file,
                   "PEM certificate of the webhook, re-read when it changes (cert-manager); without it and "
                   "--webhook-key-file tpu-extender keeps its own CA in the Secret tpu-extender-webhook-ca");
  serve.add_option("--webhook-key-file", flags.webhook_key_file, "PEM private key of --webhook-cert-file");
  serve.add_option("--webhook-scheduler-name", flags.webhook_scheduler_name,
                   "spec.schedulerName the webhook gives TPU pods that name none (tpu-scheduler)");
  provisioning::add_provisioner_flags(serve, flags.provisioning);
}

// A serve setting: the flag when given, else the config key, else the fallback.
using Setting = std::function<std::string(const std::string& flag, const std::string& value, const std::string& key,
                                          std::string fallback)>;

// The namespace tpu-extender runs in (the webhook's Service and CA Secret live there).
// The webhook's options, none without --webhook-listen, or the Error of flags that do not go together.
Result<std::optional<admission::AdmissionWebhookOptions>> webhook_options(const Setting& setting,
                                                                          const ServeFlags& flags) {
  admission::AdmissionWebhookOptions options;
  options.listener.listen = setting("--webhook-listen", flags.webhook_listen, "webhookListen", "");
  options.cert_file = setting("--webhook-cert-file", flags.webhook_cert_file, "webhookCertFile", "");
  options.key_file = setting("--webhook-key-file", flags.webhook_key_file, "webhookKeyFile", "");
  options.listener.mutation.scheduler_name = setting("--webhook-scheduler-name", flags.webhook_scheduler_name,
                                                     "webhookSchedulerName", options.listener.mutation.scheduler_name);
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Error{"--webhook-cert-file and --webhook-key-file go together"};
  }
  if (options.listener.listen.empty()) {
    if (!options.cert_file.empty()) return Error{"--webhook-cert-file needs --webhook-listen"};
    return std::optional<admission::AdmissionWebhookOptions>();
  }
  if (options.listener.mutation.scheduler_name.empty()) return Error{"--webhook-scheduler-name must not be empty"};
  options.ns = kube::pod_namespace();
  if (options.ns.empty()) options.ns = "tpu-system";
  return std::optional(std::move(options));
}

int serve(const CLI::App& app, ServeFlags& flags) {
  // Before any thread starts, so that every thread inherits the blocked signals.
  const lifecycle::ShutdownSignals signals;
  config::ConfigDocument config;
  if (!flags.config.empty()) {
    auto loaded = config::ConfigDocument::load_file(flags.config);
    if (!loaded) return report_failure(loaded.error());
    config = std::move(*loaded);
    std::set<std::string> known = {"logFormat",           "listen",        "metricsAddr",     "logLevel",
                                   "kubeconfig",          "groupTimeout",  "schedulerNames",  "tlsCertFile",
                                   "tlsPrivateKeyFile",   "clientCAFile",  "debugEndpoints",  "maxRequestBytes",
                                   "maxInFlight",         "webhookListen", "webhookCertFile", "webhookKeyFile",
                                   "webhookSchedulerName"};
    known.insert(provisioning::provisioner_config_keys().begin(), provisioning::provisioner_config_keys().end());
    if (auto checked = config.reject_unknown_keys(known); !checked) return report_failure(checked.error());
  }
  const config::SettingResolver resolver(config);
  auto& provisioning_options = flags.provisioning;
  if (auto applied = provisioning::apply_provisioner_config(resolver, app, provisioning_options); !applied) {
    return report_failure(applied.error());
  }
  // The first setting whose config key holds a bad value, reported once every setting is read.
  std::optional<Error> bad_setting;
  const auto or_fallback = [&]<class T>(Result<T> value, T fallback) -> T {
    if (value) return std::move(*value);
    if (!bad_setting) bad_setting = value.error();
    return fallback;
  };
  Setting setting = [&](const std::string& flag, const std::string& value, const std::string& key,
                        std::string fallback) {
    return or_fallback(resolver.resolve<std::string>({flag, key}, cli::given(app, flag, value), fallback), fallback);
  };
  logging::LoggingOptions log;
  log.level = setting("--log-level", flags.log_level, "logLevel", "info");
  log.json =
      or_fallback(logging::parse_json_format(setting("--log-format", flags.log_format, "logFormat", "text")), false);
  if (auto logged = logging::setup_logging(log, "tpu-extender"); !logged) return report_failure(logged.error());

  std::string kubeconfig = setting("--kubeconfig", flags.kubeconfig, "kubeconfig", "");
  extender::ServeOptions options;
  auto& verbs = options.verbs;
  verbs.listen = setting("--listen", flags.listen, "listen", verbs.listen);
  const std::string cert = setting("--tls-cert-file", flags.tls_cert_file, "tlsCertFile", "");
  const std::string key = setting("--tls-private-key-file", flags.tls_private_key_file, "tlsPrivateKeyFile", "");
  const std::string client_ca = setting("--client-ca-file", flags.client_ca_file, "clientCAFile", "");
  if (cert.empty() != key.empty())
    return cli::usage_error(app, "--tls-cert-file and --tls-private-key-file go together");
  if (!client_ca.empty() && cert.empty()) {
    return cli::usage_error(app, "--client-ca-file needs --tls-cert-file and --tls-private-key-file");
  }
  if (!cert.empty()) verbs.tls = http::TlsFiles{cert, key, client_ca};
  verbs.debug_endpoints =
      or_fallback(resolver.resolve<bool>({"--debug-endpoints", "debugEndpoints"},
                                         cli::given(app, "--debug-endpoints", flags.debug_endpoints), false),
                  false);
  verbs.max_request_bytes =
      or_fallback(config::parse_byte_size(setting("--max-request-bytes", flags.max_request_bytes, "maxRequestBytes",
                                                  std::to_string(verbs.max_request_bytes))),
                  verbs.max_request_bytes);
  verbs.max_in_flight =
      or_fallback(resolver.resolve<int>({"--max-in-flight", "maxInFlight"},
                                        cli::given(app, "--max-in-flight", flags.max_in_flight), verbs.max_in_flight),
                  verbs.max_in_flight);
  if (verbs.max_in_flight < 1) return cli::usage_error(app, "--max-in-flight must be at least 1");
  options.metrics_addr = setting("--metrics-addr", flags.metrics_addr, "metricsAddr", options.metrics_addr);
  options.group_timeout =
      or_fallback(config::parse_duration(setting("--group-timeout", flags.group_timeout, "groupTimeout",
                                                 config::format_duration(options.group_timeout))),
                  options.group_timeout);
  options.scheduler_names =
      or_fallback(resolver.resolve<std::vector<std::string>>({"--scheduler-name", "schedulerNames"},
                                                             cli::given(app, "--scheduler-name", flags.scheduler_names),
                                                             options.scheduler_names),
                  options.scheduler_names);
  if (options.scheduler_names.empty()) {
    return cli::usage_error(app, "schedulerNames: give at least one scheduler name");
  }
  const auto webhook_settings = webhook_options(setting, flags);
  if (!webhook_settings) return cli::usage_error(app, webhook_settings.error().message);
  if (bad_setting) return report_failure(*bad_setting);
  auto cluster = kubeconfig.empty() ? kube::in_cluster_config() : kube::load_kubeconfig(kubeconfig);
  if (!cluster) return report_failure(cluster.error());

  // The reservations every replica shares live beside the provisioner's Lease.
  options.reservations_namespace = provisioning::lease_namespace(provisioning_options);
  spdlog::info("open-file limit {} (each scheduler connection holds one)", http::raise_open_file_limit());
  extender::ExtenderRuntime runtime(std::move(*cluster), options);
  if (auto serving = runtime.start(); !serving) return report_failure(serving.error());
  auto started = provisioning::Provisioner::start(provisioning_options, runtime.client(), runtime.registry());
  if (!started) return report_failure(started.error());
  auto provisioner = std::move(*started);
  if (provisioner) {
    runtime.set_readiness_check([&controller = provisioner->controller()] { return controller.unready_reason(); });
  }
  std::optional<admission::AdmissionWebhook> webhook;
  if (*webhook_settings) {
    webhook.emplace(**webhook_settings, runtime.client());
    if (auto started_webhook = webhook->start(); !started_webhook) return report_failure(started_webhook.error());
  }
  std::optional<std::string> signal;
  for (int tick = 0; !(signal = signals.wait_for(std::chrono::milliseconds(200))); ++tick) {
    if (tick % 25 == 0) runtime.service().refresh_gauges();  // slices and groups gauges every 5 s
  }
  spdlog::info("received {}; stopping", *signal);
  runtime.set_readiness_check(nullptr);
  webhook.reset();
  provisioner.reset();
  runtime.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tpu-extender: slice-aware gang placement for kube-scheduler, and its node-pool provisioner",
               "tpu-extender"};
  app.require_subcommand(1);
  ServeFlags serve_flags;
  auto* serve_command = app.add_subcommand("serve", "Serve the extender verbs (filter, prioritize, bind, preempt)");
  add_serve_flags(*serve_command, serve_flags);
  PlanOptions plan_options;
  auto* plan_command = app.add_subcommand("plan", "What-if: where each pod of a snapshot would go, who waits and why");
  plan_command->add_option("--nodes", plan_options.nodes, "Node objects: a YAML or JSON list, or a List")->required();
  plan_command->add_option("--pods", plan_options.pods, "Pod objects: a YAML or JSON list, or a List")->required();
  if (auto code = cli::parse_command_line(app, argc, argv)) return *code;
  try {
    if (*plan_command) return plan(plan_options);
    return serve(*serve_command, serve_flags);
  } catch (const std::exception& e) {
    std::cerr << "tpu-extender: " << e.what() << "\n";
    return 1;
  }
}
