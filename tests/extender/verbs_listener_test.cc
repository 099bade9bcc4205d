// tpu-extender's verbs port as an attacker and a busy cluster meet it: the real program against the fake API
// server, spoken to over real sockets.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http/http_server.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/child_process.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/temp_dir.h"

namespace tpustack::extender {
namespace {

using namespace std::chrono_literals;
namespace objects = testing;  // Node and Pod objects (tests/extender/cluster_fixture.h)
using tpustack::testing::RawConnection;
using tpustack::testing::RawResponse;
using tpustack::testing::request_bytes;
using tpustack::testing::round_trip;

const fakes::GroupResource kFakePods{"", "pods"};
const fakes::GroupResource kFakeNodes{"", "nodes"};

std::size_t resident_bytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::size_t open_files(pid_t pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++count;
  }
  return count;
}

// Four free v6e 4x4 slices, a pending group of four, a kube-system pod of the default scheduler, and 1,000
// busy nodes. kube-scheduler's own predicates (the pod's accelerator and topology) leave the 16 v6e nodes.
class VerbsListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::raise_open_file_limit();  // 2,000 connections on each side; the extender raises its own
    api_.start();
    for (int slice = 0; slice < 4; ++slice) {
      for (int host = 0; host < 4; ++host) {
        const std::string pool = "pool-" + std::to_string(slice);
        nodes_.push_back(pool + "-" + std::to_string(host));
        api_.store().create(kFakeNodes, "", objects::node_json(nodes_.back(), "tpu-v6e-slice", "4x4", pool, 4));
      }
    }
    for (int i = 0; i < 4; ++i) {
      workers_.push_back(api_.store().create(
          kFakePods, "default", objects::pod_json(objects::job_worker("train", i, "tpu-v6e-slice", "4x4", 4))));
    }
    // The rest of a modest cluster, which the extender holds in memory as it would: 1,000 single-host v5e nodes,
    // each running a pod.
    for (int i = 0; i < 1000; ++i) {
      const std::string node = "v5e-" + std::to_string(i);
      api_.store().create(kFakeNodes, "",
                          objects::node_json(node, "tpu-v5-lite-podslice", "2x4", "v5e-" + std::to_string(i), 8));
      api_.store().create(
          kFakePods, "default",
          objects::pod_json(objects::single_pod("serve-" + std::to_string(i), "tpu-v5-lite-podslice", "2x4", 8, node)));
    }
    auto victim = objects::single_pod("victim", "", "", 0, "");
    victim.ns = "kube-system";
    victim.scheduler_name = "default-scheduler";
    api_.store().create(kFakePods, "kube-system", objects::pod_json(victim));

    work_dir_ = tpustack::testing::make_temp_dir("verbs-listener");
    const std::string kubeconfig = work_dir_ + "/kubeconfig";
    std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
                              << "clusters: [{name: local, cluster: {server: '" << api_.url() << "'}}]\n"
                              << "users: [{name: t, user: {token: t}}]\n"
                              << "contexts: [{name: local, context: {cluster: local, user: t}}]\n";
    port_ = testing::free_port();
    const int metrics = testing::free_port();
    extender_ = std::make_unique<tpustack::testing::ChildProcess>(std::vector<std::string>{
        std::string(TPUSTACK_BINARY_DIR) + "/extender/tpu-extender", "serve", "--kubeconfig", kubeconfig, "--listen",
        "127.0.0.1:" + std::to_string(port_), "--metrics-addr", "127.0.0.1:" + std::to_string(metrics)});
    bool ready = false;
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         !ready && std::chrono::steady_clock::now() < deadline;) {
      ready = round_trip(metrics, "GET", "/readyz/verbs").status == 200;
      if (!ready) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(ready) << extender_->output();
  }

  void TearDown() override {
    if (extender_) {
      EXPECT_TRUE(extender_->running()) << "tpu-extender died:\n" << extender_->output();
    }
    extender_.reset();
    std::filesystem::remove_all(work_dir_);
  }

  std::string filter_body(int worker) const {
    return nlohmann::json{{"Pod", workers_[worker]}, {"Nodes", nullptr}, {"NodeNames", nodes_}}.dump();
  }

  // The verb's answer as JSON with its Error; fails the test when the answer is not JSON.
  static std::string error_of(const RawResponse& response) {
    EXPECT_EQ(response.headers.count("content-type") ? response.headers.at("content-type") : "", "application/json")
        << response.body;
    auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << response.body.substr(0, 200);
    return parsed.is_object() ? parsed.value("Error", "") : "";
  }

  fakes::FakeApiServer api_;
  std::vector<std::string> nodes_;
  std::vector<nlohmann::json> workers_;
  std::string work_dir_;
  std::unique_ptr<tpustack::testing::ChildProcess> extender_;
  int port_ = 0;
};

TEST_F(VerbsListenerTest, SighupIsIgnoredAndSigtermStopsCleanly) {
  // SIGHUP used to end tpu-extender at once, leaving kube-scheduler without its extender.
  extender_->signal(SIGHUP);
  for (int i = 0; i < 100 && extender_->output().find("SIGHUP ignored") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_THAT(extender_->output(), ::testing::HasSubstr("SIGHUP ignored"));
  EXPECT_EQ(round_trip(port_, "GET", "/healthz").status, 200);
  EXPECT_EQ(extender_->terminate(20s), 0) << extender_->output();
  EXPECT_THAT(extender_->output(), ::testing::HasSubstr("received SIGTERM; stopping"));
  extender_.reset();
}

TEST_F(VerbsListenerTest, TwoThousandStalledConnectionsNeitherSlowTheSchedulerNorStayInMemory) {
  // 32 clients as kube-scheduler's: kept-alive connections, filter then prioritize. Returns the p99 in ms.
  std::atomic<int> failures{0};
  std::vector<std::string> bodies;
  for (int worker = 0; worker < 4; ++worker) bodies.push_back(filter_body(worker));
  auto load = [&] {
    std::vector<std::vector<double>> latencies(32);
    std::vector<std::thread> clients;
    for (int c = 0; c < 32; ++c) {
      clients.emplace_back([&, c] {
        RawConnection connection(port_);
        for (int i = 0; i < 40; ++i) {
          const char* verb = i % 2 == 0 ? "/filter" : "/prioritize";
          const auto start = std::chrono::steady_clock::now();
          connection.send(request_bytes("POST", verb, bodies[c % 4]));
          const RawResponse answer = connection.read_response();
          latencies[c].push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          // Checked without parsing, to leave the CPU to the extender: a filter result's Error is "", a
          // prioritize result is a list.
          const bool ok = answer.status == 200 &&
                          (answer.body.find(R"("Error":"")") != std::string::npos || answer.body.rfind("[", 0) == 0);
          if (!ok) ++failures;
        }
      });
    }
    EXPECT_EQ(round_trip(port_, "GET", "/healthz").status, 200);
    for (auto& client : clients) client.join();
    std::vector<double> all;
    for (const auto& one : latencies) all.insert(all.end(), one.begin(), one.end());
    std::sort(all.begin(), all.end());
    return all[all.size() * 99 / 100];
  };
  // Where it starts: after the same load, so that every worker thread has run (its stack and allocator arena).
  load();
  const pid_t pid = extender_->pid();
  [[maybe_unused]] const std::size_t before = resident_bytes(pid);
  const std::size_t files_before = open_files(pid);

  const std::string& filter = bodies[0];
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 2000; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(port_));
    const std::string head = "POST /filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(filter.size()) + "\r\n\r\n";
    // Half go quiet after their headers, half in the middle of the body.
    ASSERT_TRUE(stalled.back()->send(i % 2 == 0 ? head : head + filter.substr(0, filter.size() / 2)));
  }
  // Held: the extender has accepted them (connect() returns before the accept; the count of files before may
  // have included a connection of the warm-up on its way out).
  const std::size_t held = files_before + 2000 - 8;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       open_files(pid) < held && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(open_files(pid), held);
  const double p99 = load();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(p99, 50.0) << "p99 " << p99 << " ms over 1,280 requests";
  EXPECT_EQ(round_trip(port_, "GET", "/healthz").status, 200);

  stalled.clear();
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       open_files(pid) > files_before && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_LE(open_files(pid), files_before) << "connections left open";
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine keeps freed memory resident on purpose
  const std::size_t after = resident_bytes(pid);
  EXPECT_LE(static_cast<double>(after), 1.2 * static_cast<double>(before))
      << "resident " << before / 1024 << " KiB before, " << after / 1024 << " KiB after";
#endif
}

TEST_F(VerbsListenerTest, EachAttackGetsAJsonRefusalAndTheExtenderStaysUp) {
  // The /bind hijack: a kube-system pod of the default scheduler onto a node that does not exist.
  auto hijack =
      round_trip(port_, "POST", "/bind", R"({"PodName":"victim","PodNamespace":"kube-system","Node":"attacker-node"})");
  EXPECT_EQ(hijack.status, 200);
  EXPECT_FALSE(error_of(hijack).empty());
  EXPECT_EQ(api_.store().get(kFakePods, "kube-system", "victim")["spec"].value("nodeName", ""), "");

  // 100,000-deep nesting where each verb reads an object.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::vector<std::pair<std::string, std::string>> nested = {
      {"/filter", R"({"Pod":)" + deep + R"(,"NodeNames":[]})"},
      {"/filter", R"({"Pod":{},"Nodes":{"items":[)" + deep + "]}}"},
      {"/prioritize", R"({"Pod":)" + deep + "}"},
      {"/bind", R"({"PodName":)" + deep + "}"},
      {"/preempt", R"({"Pod":)" + deep + R"(,"NodeNameToMetaVictims":{}})"},
      {"/preempt", R"({"Pod":{},"NodeNameToVictims":{"n":{"Pods":[)" + deep + "]}}}"},
  };
  for (const auto& [verb, body] : nested) {
    auto answer = round_trip(port_, "POST", verb, body);
    EXPECT_NE(answer.status, 0) << verb;
    EXPECT_FALSE(error_of(answer).empty()) << verb;
  }

  // A 64 MB body: refused from its Content-Length, before it is read.
  for (const char* verb : {"/filter", "/prioritize", "/bind", "/preempt"}) {
    RawConnection connection(port_);
    ASSERT_TRUE(
        connection.send(std::string("POST ") + verb +
                        " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n" +
                        std::string(4096, ' ')));
    auto answer = connection.read_response(5s);
    // The rest of the 64 MB finds the connection closed.
    EXPECT_TRUE(connection.closed_by_peer(5s)) << verb;
    EXPECT_EQ(answer.status, 413) << verb;
    EXPECT_NE(error_of(answer).find("larger than"), std::string::npos) << verb;
  }

  // Malformed bodies on every verb.
  for (const char* verb : {"/filter", "/prioritize", "/bind", "/preempt"}) {
    for (const char* body : {"", "not json", "{", "[]", "null", R"({"Pod":42})", R"({"PodName":["x"]})",
                             "{\"Pod\":{\"metadata\":{\"name\":\"\xff\xfe\"}}}"}) {
      auto answer = round_trip(port_, "POST", verb, body);
      EXPECT_NE(answer.status, 0) << verb << " " << body;
      EXPECT_FALSE(error_of(answer).empty()) << verb << " " << body;
    }
  }

  // Still serving, and still placing.
  EXPECT_EQ(round_trip(port_, "GET", "/healthz").status, 200);
  auto placed = round_trip(port_, "POST", "/filter", filter_body(0));
  EXPECT_EQ(placed.status, 200);
  EXPECT_EQ(error_of(placed), "");
}

TEST_F(VerbsListenerTest, DebugEndpointsAreOffUnlessAskedFor) {
  EXPECT_EQ(round_trip(port_, "GET", "/debug/slices").status, 404);
  auto wrong_method = round_trip(port_, "GET", "/filter");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_FALSE(error_of(wrong_method).empty());
}

}  // namespace
}  // namespace tpustack::extender
