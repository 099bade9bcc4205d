#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "common/kube/kube_client.h"
#include "tests/fakes/fake_apiserver.h"

namespace tpustack::provisioning::testing {

// A fake API server on a real socket and a client for it.
struct FakeCluster {
  fakes::FakeApiServer server;
  std::unique_ptr<kube::KubeClient> client;

  FakeCluster() {
    server.start();
    kube::ClusterConfig config;
    config.server = server.url();
    client = std::make_unique<kube::KubeClient>(config);
  }
};

// Polls `condition` every 20 ms for up to `limit`; generous limits keep slow CI machines green.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace tpustack::provisioning::testing
