// Multislice all or nothing at the service: a unit's reservations released together, the Event that says why a
// unit waits, and a unit's claims in the ledger two replicas share (all in one write, or none).
#include <chrono>

#include <gtest/gtest.h>

#include "common/kube/kube_client.h"
#include "extender/service/extender_service.h"
#include "extender/service/shared_reservations.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/fakes/fake_apiserver.h"

namespace tpustack::extender {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::multislice_worker;
using testing::node_json;
using testing::pod_json;
using Clock = std::chrono::steady_clock;

struct NoBinder : PodBinder {
  Result<void> bind(const std::string&, const std::string&, const std::string&, const std::string&,
                    const StringMap&) override {
    return {};
  }
};

json train_worker(int slice, int index) {
  return pod_json(multislice_worker("train", 2, slice, index, "tpu-v6e-slice", "4x4", 4));
}

std::vector<json> slices(std::initializer_list<const char*> names) {
  std::vector<json> nodes;
  for (const char* slice : names) {
    for (int i = 0; i < 4; ++i) {
      nodes.push_back(node_json(std::string(slice) + "-" + std::to_string(i), "tpu-v6e-slice", "4x4", slice, 4));
    }
  }
  return nodes;
}

const std::vector<std::string> kNodes = {"a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3"};

json filter(ExtenderService& service, const json& pod, const std::vector<std::string>& nodes = kNodes) {
  service.apply_pod(pod);
  return json::parse(service.filter(json{{"Pod", pod}, {"NodeNames", nodes}}.dump()).body);
}

class MultisliceService : public ::testing::Test {
 protected:
  void start(std::initializer_list<const char*> slice_names) {
    for (const auto& node : slices(slice_names)) service.apply_node(node);
    service.set_synced();
  }

  NoBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service{binder, registry};
};

TEST_F(MultisliceService, AUnitThatCannotBeMadeWholeIsToldOnceWhyWithAnEventOnItsLeaders) {
  start({"a"});
  for (int slice : {0, 1}) {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(filter(service, train_worker(slice, i))["NodeNames"].size(), 0u);
  }
  auto upkeep = service.upkeep(Clock::now(), 0s);
  ASSERT_EQ(upkeep.notices.size(), 1u);
  EXPECT_EQ(upkeep.notices[0].reason, "MultisliceWaiting");
  EXPECT_EQ(upkeep.notices[0].group, "multislice JobSet default/train");
  EXPECT_EQ(upkeep.notices[0].message,
            "multislice JobSet default/train (2 slices of tpu-v6e-slice 4x4): 1 of 2 slices free; waiting for all");
  ASSERT_EQ(upkeep.notices[0].pods.size(), 2u);  // the leaders of both slices
  EXPECT_TRUE(upkeep.nudge.empty());

  service.apply_pod(train_worker(0, 1));  // a change, but the same reason: no second Event
  EXPECT_TRUE(service.upkeep(Clock::now() + 2s, 0s).notices.empty());

  // A second slice appears: the unit can be made whole, and its pods are nudged to be filtered again.
  for (const auto& node : slices({"b"})) service.apply_node(node);
  auto whole = service.upkeep(Clock::now() + 4s, 0s);
  EXPECT_TRUE(whole.notices.empty());
  EXPECT_EQ(whole.nudge.size(), 8u);
  EXPECT_EQ(filter(service, train_worker(1, 3))["NodeNames"], json::array({"b-3"}));
}

TEST_F(MultisliceService, AMemberThatDoesNotArriveWithinTheTimeoutReleasesTheWholeUnit) {
  start({"a", "b"});
  for (int i = 0; i < 4; ++i) filter(service, train_worker(0, i));
  ASSERT_EQ(filter(service, train_worker(1, 0))["NodeNames"], json::array({"b-0"}));  // both slices reserved

  auto upkeep = service.upkeep(Clock::now() + 11min, 10min);
  ASSERT_EQ(upkeep.notices.size(), 2u);
  EXPECT_EQ(upkeep.notices[0].reason, "GroupIncomplete");  // slice 1: 1 of 4 pods
  EXPECT_EQ(upkeep.notices[0].group, "JobSet job default/train-slice-1");
  EXPECT_EQ(upkeep.notices[1].reason, "MultisliceReleased");
  EXPECT_EQ(upkeep.notices[1].group, "JobSet job default/train-slice-0");
  EXPECT_EQ(upkeep.notices[1].message.rfind("released slice a with the rest of multislice JobSet default/train: ", 0),
            0u)
      << upkeep.notices[1].message;
  const json slices = json::parse(service.debug_slices());  // a temporary here would die before the loop ran
  for (const auto& slice : slices["slices"]) EXPECT_EQ(slice["heldBy"], "");
}

kube::ClusterConfig cluster_at(const std::string& url) {
  kube::ClusterConfig cluster;
  cluster.server = url;
  return cluster;
}

// One replica without informers, as in shared_reservations_test.cc: it learns the other's reservations only from
// the ledger.
struct Replica {
  Replica(const std::string& url, const std::vector<json>& nodes) : client(cluster_at(url)), ledger(client, "default") {
    service.share_reservations(ledger);
    for (const auto& node : nodes) service.apply_node(node);
    service.set_synced();
  }
  kube::KubeClient client;
  SharedReservations ledger;
  NoBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service{binder, registry};
};

class MultisliceSharedLedger : public ::testing::Test {
 protected:
  void SetUp() override { api.start(); }
  json stored() {
    auto config_map = api.store().get({"", "configmaps"}, "default", kReservationsConfigMap);
    return json::parse(config_map["data"][kReservationsKey].get<std::string>());
  }
  fakes::FakeApiServer api;
};

TEST_F(MultisliceSharedLedger, AUnitsSlicesAreClaimedInOneWriteAndEachReplicaAnswersTheSame) {
  Replica one(api.url(), slices({"a", "b"})), two(api.url(), slices({"a", "b"}));
  for (auto* replica : {&one, &two}) {
    replica->service.apply_pod(train_worker(0, 0));
    replica->service.apply_pod(train_worker(1, 0));
  }
  EXPECT_EQ(filter(one.service, train_worker(1, 0))["NodeNames"], json::array({"b-0"}));
  EXPECT_EQ(stored().size(), 2u);
  EXPECT_EQ(stored()["default/jobset-job:key-train-slice-0"]["slice"], "a");
  EXPECT_EQ(stored()["default/jobset-job:key-train-slice-1"]["slice"], "b");
  EXPECT_EQ(filter(two.service, train_worker(0, 0))["NodeNames"], json::array({"a-0"}));
}

TEST_F(MultisliceSharedLedger, AUnitClaimThatFindsOneSliceTakenWritesNothing) {
  Replica one(api.url(), slices({"a", "b"})), two(api.url(), slices({"a", "b"}));
  const json other = pod_json(testing::job_worker("other", 0, "tpu-v6e-slice", "4x4", 4));
  ASSERT_EQ(filter(one.service, other, {"b-0", "b-1", "b-2", "b-3", "a-0"})["NodeNames"], json::array({"b-0"}));

  // Replica two has not heard of it and sees two free slices: the unit's claim of a and b is refused whole.
  two.service.apply_pod(train_worker(0, 0));
  const json reply = filter(two.service, train_worker(1, 0));
  EXPECT_EQ(reply["NodeNames"].size(), 0u);
  EXPECT_EQ(reply["Error"], "");
  EXPECT_EQ(reply["FailedNodes"]["a-0"],
            "multislice JobSet default/train (2 slices of tpu-v6e-slice 4x4): 1 of 2 slices free; waiting for all");
  EXPECT_EQ(stored().size(), 1u);  // other's only: slice a was not hoarded
}

}  // namespace
}  // namespace tpustack::extender
