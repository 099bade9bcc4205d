// fake-gke: the fake GKE node-pool API and metadata server as a process, for end-to-end runs:
//   tpu-extender serve --provisioner gke --gke-api-url URL --metadata-url URL
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "tests/fakes/gke/fake_gke_server.h"

namespace {
std::atomic<bool> stop_requested{false};
}

int main(int argc, char** argv) {
  tpustack::fakes::FakeGkeServer::Options options;
  int create_ms = 2000;
  int delete_ms = 2000;
  CLI::App app{"fake-gke: GKE's node-pool REST API and the metadata server, for tests"};
  app.add_option("--port", options.port, "Port on 127.0.0.1 (0: any free one, printed)");
  app.add_option("--project", options.project)->capture_default_str();
  app.add_option("--location", options.location)->capture_default_str();
  app.add_option("--cluster", options.cluster)->capture_default_str();
  app.add_option("--zones", options.zones, "The cluster's zones (`locations`)")->capture_default_str();
  app.add_option("--release-channel", options.release_channel, "REGULAR, RAPID, ... (default: none)");
  app.add_option("--create-ms", create_ms, "How long a create operation runs")->capture_default_str();
  app.add_option("--delete-ms", delete_ms, "How long a delete operation runs")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.create_latency = std::chrono::milliseconds(create_ms);
  options.delete_latency = std::chrono::milliseconds(delete_ms);

  tpustack::fakes::FakeGkeServer server(options);
  server.start();
  std::cout << server.url() << std::endl;
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  std::signal(SIGINT, [](int) { stop_requested = true; });
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return 0;
}
