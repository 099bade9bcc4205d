// Time until the last pod is bound when 128 four-host groups (512 pods) arrive at once on a 512-node cluster
// with a free v6e 4x4 slice for every group: the real tpu-extender serving the fake API server, driven by the
// test scheduler whose queue behaves like kube-scheduler's (parks rejected pods; retries on events, nudges or
// its 5-minute flush). Baseline in the same run: the same 512 pods without groups (each asks for a whole
// host, any host), through the same scheduler and extender.
//   group_binding_bench [GROUPS]   (default 128)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cli/command_line.h"
#include "tests/e2e/http_call.h"
#include "tests/e2e/jobset_group.h"
#include "tests/e2e/scheduler_driver.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace e2e = tpustack::e2e;

const tpustack::fakes::GroupResource kNodes{"", "nodes"};
const tpustack::fakes::GroupResource kPods{"", "pods"};
constexpr int kHosts = 4;

// Worker `index` of group `group` (a JobSet child Job), or with group empty a pod of no group.
json pod(const std::string& name, const std::string& group, int index) {
  json labels = json::object();
  json selector = {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"}};
  if (!group.empty()) {
    labels = {{"jobset.sigs.k8s.io/jobset-name", group},
              {"jobset.sigs.k8s.io/job-key", group + "-key"},
              {"batch.kubernetes.io/job-name", group + "-workers-0"},
              {"batch.kubernetes.io/job-completion-index", std::to_string(index)}};
    selector["cloud.google.com/gke-tpu-topology"] = "4x4";
  }
  const json tpu = {{"google.com/tpu", "4"}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", name + "-uid"}, {"labels", labels}}},
          {"spec",
           {{"schedulerName", "tpu-scheduler"},
            {"nodeSelector", selector},
            {"tolerations", json::array({{{"key", "google.com/tpu"}, {"operator", "Exists"}}})},
            {"containers", json::array({{{"name", "c"}, {"resources", {{"requests", tpu}, {"limits", tpu}}}}})}}},
          {"status", {{"phase", "Pending"}}}};
}

// Seconds until every pod is bound, or a negative number when they were not within the limit.
double run(int groups, bool grouped, const std::string& binary_dir, const std::string& work_dir) {
  tpustack::fakes::FakeApiServer api;
  api.start();
  const std::string kubeconfig = work_dir + "/kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
                            << "clusters: [{name: local, cluster: {server: '" << api.url() << "'}}]\n"
                            << "users: [{name: bench, user: {token: bench}}]\n"
                            << "contexts: [{name: local, context: {cluster: local, user: bench}}]\n";
  std::vector<json> nodes;
  for (int g = 0; g < groups; ++g) {
    for (int h = 0; h < kHosts; ++h)
      nodes.push_back(api.store().create(kNodes, "", e2e::v6e_4x4_node("pool-" + std::to_string(g), h, 4)));
  }
  const std::string listen = "127.0.0.1:" + std::to_string(tpustack::testing::free_port());
  tpustack::testing::ChildProcess extender(
      {binary_dir + "/extender/tpu-extender", "serve", "--kubeconfig", kubeconfig, "--listen", listen, "--metrics-addr",
       "127.0.0.1:" + std::to_string(tpustack::testing::free_port()), "--log-level", "warn"},
      {}, work_dir + (grouped ? "/extender-groups.log" : "/extender-plain.log"));
  const std::string url = "http://" + listen;
  // Ready once the verbs answer without an Error (the informers have listed).
  for (auto until = Clock::now() + 60s; Clock::now() < until;) {
    auto reply =
        e2e::http_call("POST", url, "/filter", json{{"Pod", pod("probe", "", 0)}, {"NodeNames", json::array()}}.dump());
    if (reply.status == 200 && json::parse(reply.body).value("Error", "").empty()) break;
    std::this_thread::sleep_for(50ms);
  }
  e2e::SchedulerDriver scheduler(api.store(), {url}, [](const std::string&) {});
  const auto start = Clock::now();
  for (int g = 0; g < groups; ++g) {
    for (int h = 0; h < kHosts; ++h) {
      const std::string group = "g" + std::to_string(g);
      api.store().create(kPods, "default", pod(group + "-" + std::to_string(h), grouped ? group : "", h));
    }
  }
  const std::size_t total = static_cast<std::size_t>(groups) * kHosts;
  while (Clock::now() - start < 600s) {
    scheduler.schedule_pending(nodes);
    std::size_t bound = 0;
    for (const json& p : api.store().objects(kPods)) bound += p["spec"].value("nodeName", "").empty() ? 0 : 1;
    if (bound == total) return std::chrono::duration<double>(Clock::now() - start).count();
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Time to bind every pod of GROUPS four-host groups arriving at once", "group_binding_bench");
  int groups = 128;
  app.add_option("groups", groups, "four-host groups")->check(CLI::PositiveNumber);
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  const std::string work_dir = (std::filesystem::temp_directory_path() / "group-binding-bench").string();
  std::filesystem::create_directories(work_dir);
  const double plain = run(groups, false, TPUSTACK_BINARY_DIR, work_dir);
  const double grouped = run(groups, true, TPUSTACK_BINARY_DIR, work_dir);
  std::printf("%d groups x %d hosts on %d nodes, realistic scheduler queue\n", groups, kHosts, groups * kHosts);
  std::printf("plain pods (baseline): last pod bound after %.2f s\n", plain);
  std::printf("groups:                last pod bound after %.2f s\n", grouped);
  if (plain > 0 && grouped > 0) std::printf("ratio groups / plain: %.2fx (target <= 1.5x)\n", grouped / plain);
  return plain > 0 && grouped > 0 ? 0 : 1;
}
