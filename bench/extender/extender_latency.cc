// Filter and prioritize latency of tpu-extender at 1,000 / 5,000 / 15,000 nodes with 20 % of chips in
// use, in both request forms, JSON parsing and encoding included (the whole ExtenderService call, no
// sockets). Baseline in the same run: parsing the request body alone.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/extender/bench_cluster.h"
#include "common/cli/command_line.h"
#include "common/metrics/metrics_registry.h"
#include "extender/service/extender_service.h"

namespace {

using namespace tpustack::extender;
using namespace tpustack::extender::bench;

struct Percentiles {
  double p50_ms, p99_ms;      // wall clock
  double cpu50_ms, cpu99_ms;  // this thread's CPU time: what the call costs without other processes' noise
};

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

template <class Fn>
Percentiles measure(int iterations, Fn&& fn) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    double cpu_start = thread_cpu_ms();
    fn();
    cpu.push_back(thread_cpu_ms() - cpu_start);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  auto at = [](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  };
  return {at(wall, 0.50), at(wall, 0.99), at(cpu, 0.50), at(cpu, 0.99)};
}

}  // namespace

// extender_latency_bench [NODES...] [--names-only]: by default 1000 5000 15000, both forms.
int main(int argc, char** argv) {
  CLI::App app("Filter and prioritize latency of tpu-extender's verbs, no sockets", "extender_latency_bench");
  std::vector<int> sizes = {1000, 5000, 15000};
  bool names_only = false;
  app.add_option("nodes", sizes, "cluster sizes to measure")->check(CLI::PositiveNumber);
  app.add_flag("--names-only", names_only, "only the NodeNames request form");
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  std::printf("%-6s %-9s %-10s %-11s %8s %8s %8s %8s %8s %8s %7s\n", "nodes", "form", "verb", "pod", "p50 ms", "p99 ms",
              "cpu p50", "cpu p99", "parse50", "parse99", "body KB");
  for (int node_count : sizes) {
    auto cluster = make_cluster(node_count);
    NoBinder binder;
    tpustack::metrics::MetricsRegistry registry;
    ExtenderService service(binder, registry);
    const std::vector<std::string> names = load(service, cluster);

    struct Case {
      const char* label;
      nlohmann::json pod;
    };
    Case cases[] = {{"leader4x4", pod("leader", "4x4", 4, "", 0, "new-job")},
                    {"single2x4", pod("single", "2x4", 4, "", -1, "")}};
    for (bool nodes_form : {false, true}) {
      if (nodes_form && names_only) continue;
      int iterations = nodes_form ? (node_count >= 15000 ? 15 : 40) : 300;
      for (const auto& c : cases) {
        nlohmann::json args = {{"Pod", c.pod}};
        if (nodes_form) {
          args["Nodes"] = {{"metadata", nlohmann::json::object()}, {"items", cluster.nodes}};
          args["NodeNames"] = nullptr;
        } else {
          args["Nodes"] = nullptr;
          args["NodeNames"] = names;
        }
        std::string body = args.dump();
        auto parse = measure(iterations, [&] { return nlohmann::json::parse(body).size(); });
        auto filter = measure(iterations, [&] { return service.filter(body).body.size(); });
        auto prioritize = measure(iterations, [&] { return service.prioritize(body).body.size(); });
        for (auto [verb, result] : {std::pair{"filter", filter}, std::pair{"prioritize", prioritize}}) {
          std::printf("%-6d %-9s %-10s %-11s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7zu\n", node_count,
                      nodes_form ? "Nodes" : "NodeNames", verb, c.label, result.p50_ms, result.p99_ms, result.cpu50_ms,
                      result.cpu99_ms, parse.p50_ms, parse.p99_ms, body.size() / 1024);
        }
      }
    }
  }
  return 0;
}
