// tpu-extender's verbs over HTTP at 1, 32 and 256 concurrent clients: requests/s and p50/p99 of filter and
// prioritize (alternating, NodeNames form, kept-alive connections as kube-scheduler's Go client holds them),
// through the real listener (common/http) and ExtenderService on a cluster of NODES. Baseline in the same run:
// the same listener whose handler only parses the body and answers a fixed result ("parse-only").
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/extender/bench_cluster.h"
#include "common/cli/command_line.h"
#include "common/http/http_server.h"
#include "common/metrics/metrics_registry.h"
#include "extender/service/extender_http_server.h"
#include "extender/service/extender_service.h"
#include "tests/support/raw_http_client.h"

namespace {

using namespace tpustack;
using namespace tpustack::extender;
using namespace std::chrono_literals;

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  long refused = 0;  // 503 Retry-After: past the in-flight cap
  long failed = 0;   // anything else but 200
};

// `clients` threads, each on one kept-alive connection, for `duration`.
Figures drive(int port, int clients, const std::vector<std::string>& requests, std::chrono::milliseconds duration) {
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<long> refused{0}, failed{0};
  const auto stop_at = std::chrono::steady_clock::now() + duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      tpustack::testing::RawConnection connection(port);
      for (std::size_t i = static_cast<std::size_t>(c); std::chrono::steady_clock::now() < stop_at; ++i) {
        const auto start = std::chrono::steady_clock::now();
        connection.send(requests[i % requests.size()]);
        const auto answer = connection.read_response(30s);
        if (answer.status == 200) {
          latencies[static_cast<std::size_t>(c)].push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        } else {
          ++(answer.status == 503 ? refused : failed);
          if (answer.status == 503) std::this_thread::sleep_for(1ms);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<double> all;
  for (const auto& one : latencies) all.insert(all.end(), one.begin(), one.end());
  std::sort(all.begin(), all.end());
  Figures figures;
  figures.refused = refused;
  figures.failed = failed;
  if (all.empty()) return figures;
  figures.per_second = static_cast<double>(all.size()) / std::chrono::duration<double>(duration).count();
  figures.p50_ms = all[all.size() / 2];
  figures.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return figures;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

}  // namespace

// verbs_http_bench [NODES] [SECONDS per case]: default 5000 nodes, 3 s.
int main(int argc, char** argv) {
  CLI::App app("tpu-extender's verbs over HTTP at 1, 32 and 256 concurrent clients", "verbs_http_bench");
  int node_count = 5000;
  int seconds = 3;
  app.add_option("nodes", node_count, "cluster size")->check(CLI::PositiveNumber);
  app.add_option("seconds", seconds, "seconds per case")->check(CLI::PositiveNumber);
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  const auto duration = std::chrono::seconds(seconds);
  tpustack::http::raise_open_file_limit();

  auto cluster = bench::make_cluster(node_count);
  bench::NoBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service(binder, registry);
  const std::vector<std::string> names = load(service, cluster);
  // kube-scheduler's own predicates (accelerator, topology) pass it the nodes of the pod's kind only.
  std::vector<std::string> single_host(names.begin() + static_cast<long>(names.size() / 2), names.end());
  const std::string body = nlohmann::json{
      {"Pod", bench::pod("single", "2x4", 4, "", -1, "")},
      {"Nodes", nullptr},
      {"NodeNames",
       single_host}}.dump();
  std::vector<std::string> requests = {tpustack::testing::request_bytes("POST", "/filter", body),
                                       tpustack::testing::request_bytes("POST", "/prioritize", body)};

  VerbsListenerOptions verbs;
  verbs.listen = "127.0.0.1:0";
  ExtenderHttpServer extender(verbs, service, registry);
  extender.start();

  http::HttpServerOptions baseline_options;
  baseline_options.listen = "127.0.0.1:0";
  baseline_options.what = "parse-only";
  baseline_options.max_body_bytes = verbs.max_request_bytes;
  baseline_options.max_in_flight = verbs.max_in_flight;
  baseline_options.workers = verbs.workers;
  http::HttpServer baseline(baseline_options, [](const http::Request& request) {
    http::Response response;
    response.content_type = "application/json";
    response.body = nlohmann::json::parse(request.body).is_object() ? R"({"NodeNames":[],"Error":""})" : "{}";
    return response;
  });
  baseline.start();

  std::printf("CPU: %s, %u hardware threads; %d nodes (%zu in each request), %lld s per case\n", cpu_model().c_str(),
              std::thread::hardware_concurrency(), node_count, single_host.size(),
              static_cast<long long>(duration.count() / 1000));
  std::printf("%-8s %-11s %10s %9s %9s %9s %7s\n", "clients", "server", "req/s", "p50 ms", "p99 ms", "refused",
              "failed");
  for (int clients : {1, 32, 256}) {
    for (auto [label, port] : {std::pair{"parse-only", baseline.port()}, std::pair{"extender", extender.port()}}) {
      const Figures f = drive(port, clients, requests, duration);
      std::printf("%-8d %-11s %10.0f %9.3f %9.3f %9ld %7ld\n", clients, label, f.per_second, f.p50_ms, f.p99_ms,
                  f.refused, f.failed);
      std::fflush(stdout);
    }
  }
  extender.stop();
  baseline.stop();
  return 0;
}
