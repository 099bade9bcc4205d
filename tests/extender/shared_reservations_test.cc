// Reservations shared by tpu-extender replicas through one ConfigMap on a fake API server over a real socket:
// the ledger class on its own, then two ExtenderServices (two replicas) placing groups through it.
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/kube/kube_client.h"
#include "extender/service/extender_service.h"
#include "extender/service/shared_reservations.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender {
namespace {

using nlohmann::json;
using testing::job_worker;
using testing::node_json;
using testing::pod_json;
using tpustack::testing::Succeeds;
using tpustack::testing::value_of;
using Kind = ClaimOutcome::Kind;

const fakes::GroupResource kFakeConfigMaps{"", "configmaps"};

kube::ClusterConfig cluster_at(const std::string& url) {
  kube::ClusterConfig cluster;
  cluster.server = url;
  return cluster;
}

class SharedReservationsTest : public ::testing::Test {
 protected:
  void SetUp() override { api_.start(); }
  json stored() {
    auto config_map = api_.store().get(kFakeConfigMaps, "tpu-system", kReservationsConfigMap);
    return json::parse(config_map["data"][kReservationsKey].get<std::string>());
  }

  fakes::FakeApiServer api_;
};

TEST_F(SharedReservationsTest, AClaimIsWrittenToTheConfigMapBeforeItIsGranted) {
  kube::KubeClient client(cluster_at(api_.url()));
  SharedReservations ledger(client, "tpu-system");
  EXPECT_TRUE(value_of(ledger.read()).entries().empty()) << "no ConfigMap yet: nothing reserved";
  auto claim = value_of(ledger.claim("ml/job:a", "slice-1"));
  EXPECT_EQ(claim.outcome.kind, Kind::kGranted);
  EXPECT_EQ(stored()["ml/job:a"]["slice"], "slice-1");
  EXPECT_FALSE(stored()["ml/job:a"]["since"].get<std::string>().empty());
  EXPECT_EQ(claim.ledger.version(),
            api_.store().get(kFakeConfigMaps, "tpu-system", kReservationsConfigMap)["metadata"]["resourceVersion"]);
  // PUT onto the existing one.
  EXPECT_EQ(value_of(ledger.claim("ml/job:b", "slice-2")).outcome.kind, Kind::kGranted);
  EXPECT_EQ(value_of(ledger.claim("ml/job:b", "slice-1")).outcome.kind, Kind::kGroupHoldsAnother);
  EXPECT_EQ(stored().size(), 2u);
  EXPECT_EQ(api_.request_count("POST", "/api/v1/namespaces/tpu-system/configmaps"), 1u);
  EXPECT_EQ(api_.request_count("PUT", "/api/v1/namespaces/tpu-system/configmaps/tpu-extender-reservations"), 1u);
}

// Two replicas (each its own client and connections) and many threads racing on one ledger.
TEST_F(SharedReservationsTest, GroupsRacingForOneSliceOnTwoReplicasExactlyOneGetsIt) {
  kube::KubeClient client_1(cluster_at(api_.url())), client_2(cluster_at(api_.url()));
  SharedReservations replica_1(client_1, "tpu-system"), replica_2(client_2, "tpu-system");
  std::atomic<int> granted = 0;
  std::vector<std::jthread> racers;
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back([&, i] {
      auto& ledger = i % 2 == 0 ? replica_1 : replica_2;
      auto claim = ledger.claim("ml/job:g" + std::to_string(i), "the-slice");
      ASSERT_TRUE(claim) << claim.error().message;
      if (claim->outcome.granted()) ++granted;
    });
  }
  racers.clear();
  EXPECT_EQ(granted, 1);
  EXPECT_EQ(stored().size(), 1u);
}

TEST_F(SharedReservationsTest, OneGroupRacingForManySlicesOnTwoReplicasGetsExactlyOne) {
  kube::KubeClient client_1(cluster_at(api_.url())), client_2(cluster_at(api_.url()));
  SharedReservations replica_1(client_1, "tpu-system"), replica_2(client_2, "tpu-system");
  std::atomic<int> granted_anew = 0;
  std::vector<std::string> held(8);
  std::vector<std::jthread> racers;
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back([&, i] {
      auto& ledger = i % 2 == 0 ? replica_1 : replica_2;
      auto claim = ledger.claim("ml/job:g", "slice-" + std::to_string(i));
      ASSERT_TRUE(claim) << claim.error().message;
      if (claim->outcome.kind == Kind::kGranted) ++granted_anew;
      held[i] = claim->ledger.find("ml/job:g")->slice;
    });
  }
  racers.clear();
  EXPECT_EQ(granted_anew, 1);
  for (const auto& slice : held) EXPECT_EQ(slice, held[0]) << "every racer was told the one slice the group holds";
  EXPECT_EQ(stored().size(), 1u);
}

TEST_F(SharedReservationsTest, AConflictIsDecidedAgainOnWhatTheOtherReplicaWrote) {
  kube::KubeClient client(cluster_at(api_.url()));
  SharedReservations ledger(client, "tpu-system");
  ASSERT_THAT(ledger.claim("ml/job:a", "slice-1"), Succeeds());
  // Another replica wrote between our read and our write: the API server answers 409 Conflict once.
  api_.inject({"PUT", "/api/v1/namespaces/tpu-system/configmaps/", 409,
               fakes::status_object(409, "Conflict", "the object has been modified").dump(), "application/json",
               std::chrono::milliseconds(0), 1});
  EXPECT_EQ(value_of(ledger.claim("ml/job:b", "slice-2")).outcome.kind, Kind::kGranted);
  EXPECT_EQ(stored().size(), 2u);
}

TEST_F(SharedReservationsTest, ReleasingKeepsWhatChangedSinceTheDecision) {
  kube::KubeClient client(cluster_at(api_.url()));
  SharedReservations ledger(client, "tpu-system");
  const LedgerEntry decided_on = *value_of(ledger.claim("ml/job:a", "slice-1")).ledger.find("ml/job:a");
  auto after = value_of(ledger.modify([&](ReservationLedger& copy) { return copy.release("ml/job:a", decided_on); }));
  EXPECT_TRUE(after.entries().empty());
  EXPECT_TRUE(stored().empty());
}

TEST_F(SharedReservationsTest, AnUnreachableApiServerIsAnErrorNotAnEmptyLedger) {
  kube::KubeClient client(cluster_at(api_.url()));
  SharedReservations ledger(client, "tpu-system");
  api_.stop();
  EXPECT_FALSE(ledger.read().ok());
  EXPECT_FALSE(ledger.claim("ml/job:a", "slice-1").ok());
}

struct RecordingBinder : PodBinder {
  Result<void> bind(const std::string& ns, const std::string& pod, const std::string&, const std::string& node,
                    const StringMap&) override {
    std::lock_guard lock(mu);
    binds.push_back(ns + "/" + pod + "@" + node);
    return {};
  }
  std::mutex mu;
  std::vector<std::string> binds;
};

// One tpu-extender replica without informers: its cluster is fed by hand, and it learns the other replica's
// reservations only from the ledger (the harshest case: an informer that never delivers).
struct Replica {
  Replica(const std::string& url, const std::vector<json>& nodes) : client(cluster_at(url)), ledger(client, "default") {
    service.share_reservations(ledger);
    for (const auto& node : nodes) service.apply_node(node);
    service.set_synced();
  }
  json filter(const json& pod, const std::vector<std::string>& nodes) {
    service.apply_pod(pod);
    return json::parse(service.filter(json{{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", nodes}}.dump()).body);
  }
  std::string bind(const json& pod, const std::string& node) {
    service.apply_pod(pod);
    const json args = {{"PodName", pod["metadata"]["name"]},
                       {"PodNamespace", "default"},
                       {"PodUID", pod["metadata"]["uid"]},
                       {"Node", node}};
    return json::parse(service.bind(args.dump()).body)["Error"];
  }

  // What the ConfigMap informer does in tpu-extender serve.
  void sync_ledger(fakes::FakeApiServer& api) {
    if (auto config_map = api.store().find({"", "configmaps"}, "default", kReservationsConfigMap)) {
      service.apply_reservations(*config_map);
    }
  }

  kube::KubeClient client;
  SharedReservations ledger;
  RecordingBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service{binder, registry};
};

// Two v6e 4x4 slices, "a" and "b", and two tpu-extender replicas behind one Service.
class TwoReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.start();
    std::vector<json> nodes;
    for (const char* slice : {"a", "b"}) {
      for (int i = 0; i < 4; ++i) {
        nodes.push_back(node_json(std::string(slice) + "-" + std::to_string(i), "tpu-v6e-slice", "4x4", slice, 4));
      }
    }
    one_ = std::make_unique<Replica>(api_.url(), nodes);
    two_ = std::make_unique<Replica>(api_.url(), nodes);
  }
  static json worker(const std::string& job, int index) {
    return pod_json(job_worker(job, index, "tpu-v6e-slice", "4x4", 4));
  }

  fakes::FakeApiServer api_;
  std::unique_ptr<Replica> one_, two_;
  const std::vector<std::string> a_first_ = {"a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3"};
  const std::vector<std::string> b_first_ = {"b-0", "b-1", "b-2", "b-3", "a-0", "a-1", "a-2", "a-3"};
};

TEST_F(TwoReplicas, AGroupsMembersFilteredOnDifferentReplicasLandOnOneSlice) {
  EXPECT_EQ(one_->filter(worker("train", 0), a_first_)["NodeNames"], json::array({"a-0"}));
  // Replica two has not heard of the reservation and would pick slice b: the ledger tells it the group's slice.
  EXPECT_EQ(two_->filter(worker("train", 1), b_first_)["NodeNames"], json::array({"a-1"}));
  EXPECT_EQ(two_->bind(worker("train", 1), "a-1"), "");
  EXPECT_EQ(one_->bind(worker("train", 0), "a-0"), "");
  EXPECT_EQ(one_->filter(worker("train", 2), b_first_)["NodeNames"], json::array({"a-2"}));
}

TEST_F(TwoReplicas, TwoGroupsRacingForTheLastSliceOnTwoReplicasExactlyOneGetsIt) {
  ASSERT_EQ(one_->filter(worker("first", 0), b_first_)["NodeNames"], json::array({"b-0"}));  // b is taken
  for (int round = 0; round < 5; ++round) {
    const std::string left = "left" + std::to_string(round), right = "right" + std::to_string(round);
    json on_one, on_two;
    {
      std::jthread a([&] { on_one = one_->filter(worker(left, 0), a_first_); });
      std::jthread b([&] { on_two = two_->filter(worker(right, 0), a_first_); });
    }
    EXPECT_EQ(on_one["NodeNames"].size() + on_two["NodeNames"].size(), 1u) << on_one.dump() << on_two.dump();
    const json& loser = on_one["NodeNames"].empty() ? on_one : on_two;
    EXPECT_EQ(loser["Error"], "");
    EXPECT_NE(loser["FailedNodes"]["a-0"].get<std::string>().find("slice a is reserved by"), std::string::npos)
        << loser.dump();
    // The loser's members are refused on either replica, and so is a bind the scheduler might still send.
    const std::string winner = on_one["NodeNames"].empty() ? right : left;
    const std::string other = winner == left ? right : left;
    EXPECT_EQ(one_->filter(worker(other, 1), a_first_)["NodeNames"].size(), 0u);
    EXPECT_EQ(two_->filter(worker(other, 1), a_first_)["NodeNames"].size(), 0u);
    EXPECT_NE(one_->bind(worker(other, 1), "a-1"), "");
    EXPECT_NE(two_->bind(worker(other, 1), "a-1"), "");
    // The winner's slice is given back for the next round (its pods go away).
    for (auto* replica : {one_.get(), two_.get()}) {
      replica->service.delete_pod(worker(winner, 0));
      replica->service.delete_pod(worker(other, 0));
      replica->service.delete_pod(worker(other, 1));
      replica->service.upkeep(std::chrono::steady_clock::now(), std::chrono::minutes(10));
    }
    one_->sync_ledger(api_);
    two_->sync_ledger(api_);
  }
  EXPECT_TRUE(one_->binder.binds.empty());
  EXPECT_TRUE(two_->binder.binds.empty());
}

TEST_F(TwoReplicas, BindIsRefusedWhenTheLedgerGivesTheSliceToAnotherGroup) {
  ASSERT_EQ(one_->filter(worker("first", 0), a_first_)["NodeNames"], json::array({"a-0"}));
  // Replica two never filtered "second" (its filter went to a replica that has since died): the bind is checked
  // against the ledger, and nothing is written.
  EXPECT_EQ(two_->bind(worker("second", 0), "a-0"),
            "not binding default/second-0-x7k2p: slice a is reserved by default/job:first");
  EXPECT_TRUE(two_->binder.binds.empty());
  EXPECT_EQ(two_->bind(worker("second", 0), "b-0"), "") << "a free slice is claimed at bind";
  EXPECT_EQ(one_->filter(worker("third", 0), b_first_)["NodeNames"].size(), 0u) << "a is first's, b second's";
}

TEST_F(TwoReplicas, WithoutTheApiServerFilterAnswersAnErrorAndPromisesNothing) {
  api_.stop();
  const json reply = one_->filter(worker("train", 0), a_first_);
  EXPECT_EQ(reply["NodeNames"].size(), 0u);
  EXPECT_NE(reply["Error"].get<std::string>().find("cannot reserve slice a for Job default/train in the shared "
                                                   "reservations"),
            std::string::npos)
      << reply.dump();
}

}  // namespace
}  // namespace tpustack::extender
