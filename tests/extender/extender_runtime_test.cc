#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "extender/model/kube_names.h"
#include "extender/service/extender_runtime.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/fakes/fake_apiserver.h"

namespace tpustack::extender {
namespace {

using namespace std::chrono_literals;
using testing::job_worker;
using testing::node_json;
using testing::pod_json;

const fakes::GroupResource kFakePods{"", "pods"};
const fakes::GroupResource kFakeNodes{"", "nodes"};

template <typename Predicate>
bool eventually(Predicate done) {
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

std::string filter_body(const nlohmann::json& pod, const std::vector<std::string>& nodes) {
  return nlohmann::json{{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", nodes}}.dump();
}

std::string bind_body(const nlohmann::json& pod, const std::string& node) {
  return nlohmann::json{{"PodName", pod["metadata"]["name"]},
                        {"PodNamespace", "default"},
                        {"PodUID", pod["metadata"]["uid"]},
                        {"Node", node}}
      .dump();
}

// One free v6e 4x4 slice and two JobSet-like groups of 4 that both want it, against a fake API server.
class ExtenderRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.start();
    for (int i = 0; i < 4; ++i) {
      hosts_.push_back("only-" + std::to_string(i));
      api_.store().create(kFakeNodes, "", node_json(hosts_.back(), "tpu-v6e-slice", "4x4", "only", 4));
      // As created: the API server assigns the uid.
      first_.push_back(
          api_.store().create(kFakePods, "default", pod_json(job_worker("first", i, "tpu-v6e-slice", "4x4", 4))));
      second_.push_back(
          api_.store().create(kFakePods, "default", pod_json(job_worker("second", i, "tpu-v6e-slice", "4x4", 4))));
    }
  }

  std::unique_ptr<ExtenderRuntime> start_extender() {
    kube::ClusterConfig cluster;
    cluster.server = api_.url();
    ServeOptions options;
    options.verbs.listen = "127.0.0.1:" + std::to_string(testing::free_port());
    options.metrics_addr = "127.0.0.1:" + std::to_string(testing::free_port());
    auto runtime = std::make_unique<ExtenderRuntime>(cluster, options);
    runtime->start();
    EXPECT_TRUE(eventually([&] { return runtime->synced(); }));
    return runtime;
  }

  nlohmann::json filter(ExtenderRuntime& runtime, const nlohmann::json& pod) {
    return nlohmann::json::parse(runtime.service().filter(filter_body(pod, hosts_)).body);
  }
  std::string bind(ExtenderRuntime& runtime, const nlohmann::json& pod, const std::string& node) {
    return nlohmann::json::parse(runtime.service().bind(bind_body(pod, node)).body)["Error"];
  }
  nlohmann::json stored(const nlohmann::json& pod) {
    return api_.store().get(kFakePods, "default", pod["metadata"]["name"]);
  }

  fakes::FakeApiServer api_;
  std::vector<std::string> hosts_;
  std::vector<nlohmann::json> first_, second_;
};

TEST_F(ExtenderRuntimeTest, TwoGroupsRaceForOneSliceExactlyOneGetsItTheOtherAfterwards) {
  auto extender = start_extender();
  // The first group asked about reserves the free slice; the other is told so before anything is bound.
  EXPECT_EQ(filter(*extender, first_[0])["NodeNames"], nlohmann::json::array({"only-0"}));
  EXPECT_EQ(filter(*extender, second_[0])["FailedNodes"]["only-0"], "slice only is reserved by Job default/first");
  EXPECT_EQ(bind(*extender, first_[0], "only-0"), "");
  EXPECT_NE(bind(*extender, second_[0], "only-0"), "");
  EXPECT_EQ(stored(second_[0])["spec"].value("nodeName", ""), "");

  auto leader = stored(first_[0]);
  EXPECT_EQ(leader["spec"]["nodeName"], "only-0");
  const auto& annotations = leader["metadata"]["annotations"];
  EXPECT_EQ(annotations[std::string(names::kSliceAnnotation)], "only");
  EXPECT_EQ(annotations[std::string(names::kWorkerIdAnnotation)], "0");
  EXPECT_EQ(annotations[std::string(names::kWorkerHostnamesAnnotation)],
            "first-0.first,first-1.first,first-2.first,first-3.first");
  // The annotations are written before the Binding, so the kubelet never starts a worker without them.
  std::vector<std::string> writes;
  for (const auto& request : api_.requests()) {
    const bool to_pods = request.target.starts_with("/api/v1/namespaces/default/pods/");
    if ((request.method == "PATCH" || request.method == "POST") && to_pods) {
      writes.push_back(request.method + " " + request.target);
    }
  }
  EXPECT_EQ(writes, (std::vector<std::string>{"PATCH /api/v1/namespaces/default/pods/first-0-x7k2p",
                                              "POST /api/v1/namespaces/default/pods/first-0-x7k2p/binding"}));
  for (int i = 1; i < 4; ++i) EXPECT_EQ(bind(*extender, first_[i], hosts_[i]), "");
  EXPECT_EQ(filter(*extender, second_[0])["FailedNodes"]["only-0"], "slice only is reserved by Job default/first");

  // The first group finishes: its pods go away, and the slice is the second group's. kube-scheduler parked
  // the second group's pod when it was refused; the extender updates it so that it is retried now.
  for (const auto& pod : first_) api_.store().remove(kFakePods, "default", pod["metadata"]["name"]);
  EXPECT_TRUE(eventually([&] {
    return stored(second_[0])["metadata"]
        .value("annotations", nlohmann::json::object())
        .contains(std::string(names::kNudgeAnnotation));
  })) << stored(second_[0]).dump();
  EXPECT_TRUE(eventually([&] { return filter(*extender, second_[0])["NodeNames"].size() == 1; }));
  EXPECT_EQ(bind(*extender, second_[0], "only-0"), "");
}

TEST_F(ExtenderRuntimeTest, AfterARestartReservationsComeBackBeforeTheFirstAnswer) {
  {
    auto extender = start_extender();
    ASSERT_EQ(bind(*extender, first_[0], "only-0"), "");
  }
  auto restarted = start_extender();
  // The leader is on host 0, so worker 1 takes host 1; the other group still waits.
  EXPECT_EQ(filter(*restarted, first_[1])["NodeNames"], nlohmann::json::array({"only-1"}));
  EXPECT_EQ(filter(*restarted, second_[0])["NodeNames"].size(), 0u);
  EXPECT_NE(bind(*restarted, second_[0], "only-2"), "");
  EXPECT_EQ(bind(*restarted, first_[1], "only-1"), "");
  EXPECT_EQ(stored(first_[1])["metadata"]["annotations"][std::string(names::kWorkerIdAnnotation)], "1");
}

}  // namespace
}  // namespace tpustack::extender
