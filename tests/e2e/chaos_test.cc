// Chaos (issue 19): while 100 JobSet groups each get a pool from the provisioner, serve clients and finish, a
// random program of the stack (tpu-extender, a node's tpu-device-plugin, a pod's inferd) is SIGKILLed every second
// or two and restarted a moment later, as Kubernetes restarts a crashed container. No promise may break, checked
// on every tick: no slice held by two groups, no group split over two slices, no host with more chips bound than it
// has, no group with two pools at once, no pool with more nodes than its slice has hosts (LocalCluster::violations),
// no pod whose node went while it ran. At the end: every group was placed whole and served, every pool is gone and
// stays gone, and every request an inferd accepted was answered or refused with an error, none hung (what counts
// as which: request_load.h).

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/jobset_group.h"
#include "tests/e2e/local_cluster.h"
#include "tests/e2e/request_load.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kGroups = 100;
constexpr int kHosts = 2;               // v6e 2x4 slices on 4-chip hosts: small groups that still span hosts
constexpr int kInFlight = 8;            // groups submitted and not yet finished, at most
constexpr auto kServeFor = 1500ms;      // a group whose inferds all serve finishes after this long
constexpr auto kRequestDeadline = 20s;  // an accepted request with no answer by then hangs
constexpr auto kStallLimit = 120s;      // no group placed or finished for this long: the stack is stuck
constexpr auto kRunDeadline = 540s;     // a plain build runs it in about a minute, a sanitizer build in a few

enum class Program { kExtender, kDevicePlugin, kInferd };
const char* const kProgramNames[] = {"tpu-extender", "tpu-device-plugin", "inferd"};

// A program killed and not yet restarted: a node's plugin, a pod's inferd, or the extender (no name).
struct Restart {
  Clock::time_point due;
  Program program;
  std::string name;
};

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string models = std::string(TPUSTACK_BINARY_DIR) + "/tests/inferd/tiny-models";
    TPUSTACK_REQUIRE_SETUP(std::filesystem::exists(models + "/f32-mean/config.json"),
                           "python3-numpy (it writes the tiny models into " + models + ")");
    work_dir_ = tpustack::testing::make_temp_dir("chaos");
    ClusterOptions options;
    options.binary_dir = TPUSTACK_BINARY_DIR;
    options.work_dir = work_dir_;
    options.models = {"embedder=" + models + "/f32-mean"};
    // Short delays and several operations at once, so that 100 pools come and go in a couple of minutes.
    options.simulated_node_delay = "300ms";
    options.pool_deletion_grace = "1s";
    options.max_pool_operations = 8;
    cluster_ = std::make_unique<LocalCluster>(options);
    cluster_->start_extender();
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(work_dir_);
  }

  bool pod_running(const std::string& pod) {
    const auto object = cluster_->store().find({"", "pods"}, "default", pod);
    return object && (*object).value("status", json::object()).value("phase", "") == "Running";
  }
  bool inferd_up(const std::string& pod) {
    auto worker = cluster_->workers().find(pod);
    return worker != cluster_->workers().end() && worker->second.inferd && worker->second.inferd->running();
  }
  bool group_serving(const std::string& group) {
    const auto pods = group_pod_names(group, kHosts);
    return std::all_of(pods.begin(), pods.end(), [&](const std::string& pod) { return inferd_up(pod); });
  }
  // The inferds of groups still running, for the clients.
  std::vector<int> serving_ports() {
    std::vector<int> ports;
    for (auto& [pod, worker] : cluster_->workers()) {
      if (inferd_up(pod) && pod_running(pod)) ports.push_back(std::stoi(worker.url.substr(worker.url.rfind(':') + 1)));
    }
    return ports;
  }

  // SIGKILLs one program picked at random: first one of the three kinds, then one running program of that kind; no
  // kill when none of that kind runs. Drawing the kind among running ones only would aim nearly every kill at the
  // extender while no pool is up, which is when only the extender can make progress: on a slow machine (a sanitizer
  // build beside other work) it was killed 135 times in 149 and rarely finished starting.
  void kill_one(std::mt19937& rng) {
    std::vector<std::pair<Program, std::string>> running[3];
    const bool extender_down = std::any_of(restarts_.begin(), restarts_.end(),
                                           [](const Restart& r) { return r.program == Program::kExtender; });
    if (!extender_down) running[0].emplace_back(Program::kExtender, "");
    for (auto& [node, agent] : cluster_->agents()) {
      if (agent->plugin_running()) running[1].emplace_back(Program::kDevicePlugin, node);
    }
    for (auto& [pod, worker] : cluster_->workers()) {
      if (inferd_up(pod) && pod_running(pod)) running[2].emplace_back(Program::kInferd, pod);
    }
    const auto& pick = running[std::uniform_int_distribution(0, 2)(rng)];
    if (pick.empty()) return;
    const auto& [program, name] = pick[std::uniform_int_distribution<std::size_t>(0, pick.size() - 1)(rng)];
    switch (program) {
      case Program::kExtender:
        cluster_->kill_extender(0);
        break;
      case Program::kDevicePlugin:
        cluster_->agents().at(name)->kill_plugin();
        break;
      case Program::kInferd:
        cluster_->workers().at(name).inferd->signal(SIGKILL);
        break;
    }
    ++kills_[static_cast<int>(program)];
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution(0, 500)(rng));
    restarts_.push_back({Clock::now() + delay, program, name});
  }

  // Restarts the killed programs that are due (all with `all`) unless what they served is gone: a plugin's node
  // deleted with its pool, an inferd's pod finished.
  void restart_due(bool all) {
    const auto now = Clock::now();
    auto due = std::stable_partition(restarts_.begin(), restarts_.end(),
                                     [&](const Restart& r) { return !all && r.due > now; });
    for (auto it = due; it != restarts_.end(); ++it) {
      switch (it->program) {
        case Program::kExtender:
          cluster_->start_extender(0, false);
          break;
        case Program::kDevicePlugin:
          if (auto agents = cluster_->agents(); agents.contains(it->name) && !agents[it->name]->plugin_running()) {
            agents[it->name]->start_plugin();
          }
          break;
        case Program::kInferd:
          if (pod_running(it->name)) cluster_->restart_worker(it->name);
          break;
      }
    }
    restarts_.erase(due, restarts_.end());
  }

  std::string kill_counts() const {
    std::string counts;
    for (int program = 0; program < 3; ++program) {
      counts += std::string(program ? ", " : "") + kProgramNames[program] + " " + std::to_string(kills_[program]);
    }
    return counts;
  }
  std::string logs(const std::set<std::string>& finished) {
    return "kills: " + kill_counts() + "\n" + cluster_->diagnosis(kHosts, finished);
  }

  std::filesystem::path work_dir_;
  std::unique_ptr<LocalCluster> cluster_;
  std::vector<Restart> restarts_;
  int kills_[3] = {0, 0, 0};
};

TEST_F(ChaosTest, HundredGroupsArePlacedServedAndCleanedUpWhileRandomProgramsAreKilled) {
  const std::uint32_t seed = std::random_device{}();
  std::cerr << "seed " << seed << "\n";
  std::mt19937 rng(seed);
  RequestLoad load(2, "/embed", json{{"model", "embedder"}, {"inputs", "a TPU slice"}}.dump(), kRequestDeadline, 20ms);
  std::set<std::string> placed, finished;
  std::map<std::string, Clock::time_point> serving_since;
  int submitted = 0;
  const auto start = Clock::now();
  auto next_kill = start + 1s;
  auto last_progress = start;
  while (finished.size() < kGroups && Clock::now() - start < kRunDeadline &&
         Clock::now() - last_progress < kStallLimit) {
    const std::size_t progress_before = placed.size() + finished.size();
    for (; submitted < kGroups && submitted - static_cast<int>(finished.size()) < kInFlight; ++submitted) {
      create_jobset_group(cluster_->store(), "default", numbered_group(submitted), "2x4", kHosts, 4);
    }
    cluster_->tick();
    const auto now = Clock::now();
    for (const std::string& group : cluster_->tally_groups(kHosts, finished).placed) {
      placed.insert(group);
      if (group_serving(group)) serving_since.try_emplace(group, now);
    }
    for (const auto& [group, since] : serving_since) {
      if (now - since < kServeFor || finished.contains(group)) continue;
      cluster_->finish_group("default", group, kHosts);
      finished.insert(group);
    }
    restart_due(false);
    if (now >= next_kill) {
      kill_one(rng);
      next_kill = now + std::chrono::milliseconds(std::uniform_int_distribution(1000, 2500)(rng));
    }
    load.set_targets(serving_ports());
    if (placed.size() + finished.size() > progress_before) last_progress = now;
    std::this_thread::sleep_for(100ms);
  }
  restart_due(true);
  load.set_targets({});
  std::cerr << finished.size() << " groups placed, served and finished in "
            << std::chrono::duration<double>(Clock::now() - start).count() << " s on " << cluster_->pools_seen().size()
            << " pools; kills: " << kill_counts() << "\n";
  EXPECT_EQ(placed.size(), static_cast<std::size_t>(kGroups)) << logs(finished);
  ASSERT_EQ(finished.size(), static_cast<std::size_t>(kGroups)) << logs(finished);

  // No pool outlives its group: all nodes go after the grace period, and none comes back.
  EXPECT_TRUE(cluster_->run_until([&] { return cluster_->nodes().empty(); }, 120s))
      << cluster_->nodes().size() << " nodes left\n"
      << logs(finished);
  cluster_->run_until([] { return false; }, 3s);
  EXPECT_THAT(cluster_->nodes(), ::testing::IsEmpty());
  EXPECT_LE(cluster_->pools_seen().size(), static_cast<std::size_t>(kGroups));
  EXPECT_THAT(cluster_->violations(), ::testing::IsEmpty()) << logs(finished);
  for (int program = 0; program < 3; ++program) EXPECT_GT(kills_[program], 0) << kProgramNames[program];
  // No pool went under a running pod (the harness still replaces such a pod, as Kubernetes would, so that the rest
  // of the run says what else went wrong).
  EXPECT_THAT(cluster_->orphaned_pods(), ::testing::IsEmpty());

  load.stop();
  const LoadTally requests = load.tally();
  std::cerr << "requests: " << requests.accepted << " accepted (" << requests.answered << " answered, "
            << requests.refused_status << " refused with an HTTP error, " << requests.refused_closed
            << " cut off by a closed connection, " << requests.wrong << " wrong, " << requests.hung << " hung), "
            << requests.unreachable << " never reached a server\n";
  EXPECT_GT(requests.answered, 0);
  EXPECT_EQ(requests.wrong, 0) << ::testing::PrintToString(requests.failures);
  // Every other accepted request was answered or refused with an error.
  EXPECT_EQ(requests.hung, 0) << ::testing::PrintToString(requests.failures);
}

}  // namespace
}  // namespace tpustack::e2e
