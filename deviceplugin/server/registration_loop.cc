#include "deviceplugin/server/registration_loop.h"

#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "deviceplugin/server/kubelet_registration.h"

namespace tpustack::deviceplugin {
namespace {

RegistrationSettings with_defaults(RegistrationSettings settings) {
  if (settings.kubelet_socket.empty()) settings.kubelet_socket = settings.plugin_dir + "/kubelet.sock";
  return settings;
}

// sockaddr_un holds 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

}  // namespace

Result<std::unique_ptr<RegistrationLoop>> RegistrationLoop::open(RegistrationSettings settings,
                                                                 const DeviceState& state, PluginMetrics& metrics) {
  settings = with_defaults(std::move(settings));
  const std::string socket_path = settings.plugin_dir + "/" + settings.socket_name;
  if (socket_path.size() > kMaxSocketPath) {
    return Error{"plugin socket path " + socket_path + " is longer than the 107 bytes a unix socket allows"};
  }
  auto watch = PluginDirWatch::open(settings.kubelet_socket, socket_path);
  if (!watch) return watch.error();
  return std::unique_ptr<RegistrationLoop>(
      new RegistrationLoop(std::move(settings), state, metrics, std::move(*watch)));
}

RegistrationLoop::RegistrationLoop(RegistrationSettings settings, const DeviceState& state, PluginMetrics& metrics,
                                   std::unique_ptr<PluginDirWatch> watch)
    : settings_(std::move(settings)),
      state_(state),
      metrics_(metrics),
      socket_path_(settings_.plugin_dir + "/" + settings_.socket_name),
      watch_(std::move(watch)) {}

RegistrationLoop::~RegistrationLoop() { stop_server(); }

Result<void> RegistrationLoop::start_server() {
  stop_server();
  ::unlink(socket_path_.c_str());  // left by an earlier instance of ours; the instance lock rules out a live one
  service_ = std::make_unique<DevicePluginService>(state_, metrics_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) return Error{"cannot serve the device-plugin API on " + socket_path_};
  serving_ = true;
  spdlog::info("serving v1beta1.DevicePlugin on {}", socket_path_);
  return {};
}

void RegistrationLoop::stop_server() {
  if (!server_) return;
  service_->end_streams();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  server_.reset();
  service_.reset();
  serving_ = false;
  registered_ = false;
  ::unlink(socket_path_.c_str());
}

void RegistrationLoop::run() {
  retry::Backoff backoff(settings_.register_retry);
  bool told_absent = false;
  bool need_server = true;
  while (!stopping_) {
    if (need_server || ::access(socket_path_.c_str(), F_OK) != 0) {
      if (auto started = start_server(); !started) {
        // E.g. the plugin directory was removed; it comes back with the next kubelet.
        spdlog::error("{}; retrying", started.error().message);
        watch_->wait(settings_.register_retry.max);
        continue;
      }
    }
    need_server = false;
    watch_->drain();
    const grpc::Status status =
        register_with_kubelet(settings_.kubelet_socket, settings_.socket_name, settings_.register_timeout);
    if (!status.ok()) {
      metrics_.registrations.labels({"failed"}).inc();
      // One warning per outage; the retries in between are debug lines.
      if (!told_absent) {
        spdlog::warn("cannot register with the kubelet at {}: {}; retrying until it answers", settings_.kubelet_socket,
                     status.error_message());
        told_absent = true;
      } else {
        spdlog::debug("register retry failed: {}", status.error_message());
      }
      const auto event = watch_->wait(backoff.next());
      if (event == PluginDirWatch::Event::kKubeletSocketCreated) backoff.reset();
      if (event == PluginDirWatch::Event::kOurSocketRemoved) need_server = true;
      continue;
    }
    metrics_.registrations.labels({"ok"}).inc();
    registered_ = true;
    told_absent = false;
    backoff.reset();
    spdlog::info("registered {} with the kubelet at {}", kResourceName, settings_.kubelet_socket);
    for (;;) {
      const auto event = watch_->wait(std::chrono::seconds(1));
      if (event == PluginDirWatch::Event::kNone) continue;
      if (event == PluginDirWatch::Event::kOurSocketRemoved) {
        spdlog::info("our socket {} vanished (kubelet restart?); serving again and re-registering", socket_path_);
        need_server = true;
      } else if (event == PluginDirWatch::Event::kKubeletSocketCreated) {
        spdlog::info("{} was created: a new kubelet; re-registering", settings_.kubelet_socket);
      }
      registered_ = false;
      break;
    }
  }
  stop_server();
  spdlog::info("stopped serving; removed {}", socket_path_);
}

void RegistrationLoop::stop() {
  stopping_ = true;
  watch_->wake();
}

}  // namespace tpustack::deviceplugin
