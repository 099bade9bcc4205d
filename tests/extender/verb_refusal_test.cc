// What tpu-extender refuses, as kube-scheduler (or anyone reaching its port) sees it: /bind binds only the
// pending TPU pods of its own scheduler profiles onto the node its rules give them, /preempt speaks only
// for its own pods, and every verb answers every bad body with its own JSON type and Error set.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/service/extender_service.h"
#include "tests/extender/cluster_fixture.h"

namespace tpustack::extender {
namespace {

using ::testing::HasSubstr;
using testing::job_worker;
using testing::node_json;
using testing::pod_json;
using testing::PodFields;
using testing::single_pod;

struct RecordingBinder : PodBinder {
  Result<void> bind(const std::string& ns, const std::string& pod, const std::string&, const std::string& node,
                    const StringMap&) override {
    binds.push_back(ns + "/" + pod + "@" + node);
    return {};
  }
  std::vector<std::string> binds;
};

nlohmann::json binding(const std::string& ns, const std::string& pod, const std::string& node) {
  return {{"PodName", pod}, {"PodNamespace", ns}, {"Node", node}};
}

// Two single-host v5e 2x2 nodes, a v6e 4x4 slice "s" of four hosts, a CPU node, and the pods of a cluster
// where other schedulers run too.
class VerbRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      service.apply_node(
          node_json("v5e-" + std::to_string(i), "tpu-v5-lite-podslice", "2x2", "v5e-" + std::to_string(i), 4));
    }
    for (int i = 0; i < 4; ++i) service.apply_node(node_json("s-" + std::to_string(i), "tpu-v6e-slice", "4x4", "s", 4));
    service.apply_node({{"metadata", {{"name", "cpu-node"}}}, {"status", {{"allocatable", {{"cpu", "8"}}}}}});
    add(single_pod("serve", "tpu-v5-lite-podslice", "2x2", 4, ""));
    service.set_synced();
  }

  nlohmann::json add(PodFields fields) {
    auto pod = pod_json(fields);
    service.apply_pod(pod);
    return pod;
  }
  PodFields worker(int index) { return job_worker("train", index, "tpu-v6e-slice", "4x4", 4); }
  std::string bind(const nlohmann::json& args) {
    return nlohmann::json::parse(service.bind(args.dump()).body)["Error"];
  }

  RecordingBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service{binder, registry};
};

TEST_F(VerbRefusalTest, BindHijackOfAnotherSchedulersPodIsRefusedAndNothingIsWritten) {
  PodFields victim;
  victim.name = "victim";
  victim.ns = "kube-system";
  victim.scheduler_name = "default-scheduler";
  add(victim);
  // The issue's curl: a kube-system pod of the default scheduler, no TPU, a node that does not exist.
  auto reply = service.bind(R"({"PodName":"victim","PodNamespace":"kube-system","Node":"attacker-node"})");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["Error"],
            "tpu-extender does not bind it: pod kube-system/victim belongs to scheduler default-scheduler, not to "
            "tpu-extender's (tpu-scheduler)");
  // Onto a real TPU node, or with a TPU request but another scheduler, or ours but without a TPU: the same.
  EXPECT_NE(bind(binding("kube-system", "victim", "v5e-0")), "");
  auto tpu_victim = single_pod("tpu-victim", "tpu-v5-lite-podslice", "2x2", 4, "");
  tpu_victim.scheduler_name = "default-scheduler";
  add(tpu_victim);
  EXPECT_THAT(bind(binding("default", "tpu-victim", "v5e-0")), HasSubstr("belongs to scheduler default-scheduler"));
  PodFields no_tpu;
  no_tpu.name = "no-tpu";
  add(no_tpu);
  EXPECT_EQ(bind(binding("default", "no-tpu", "cpu-node")),
            "tpu-extender does not bind it: pod default/no-tpu requests no google.com/tpu");
  // Our own TPU pod, but onto a node that does not exist or is no TPU node.
  EXPECT_EQ(bind(binding("default", "serve", "attacker-node")),
            "node attacker-node does not exist (not in tpu-extender's cache)");
  EXPECT_THAT(bind(binding("default", "serve", "cpu-node")), HasSubstr("not a TPU node"));
  // A pod the cache has never seen.
  EXPECT_THAT(bind(binding("kube-system", "nobody", "v5e-0")), HasSubstr("not in tpu-extender's cache"));
  EXPECT_TRUE(binder.binds.empty());
  // The pod that is ours binds.
  EXPECT_EQ(bind(binding("default", "serve", "v5e-0")), "");
  EXPECT_EQ(binder.binds, (std::vector<std::string>{"default/serve@v5e-0"}));
}

TEST_F(VerbRefusalTest, SeveralSchedulerNamesAreAllOurs) {
  ExtenderService two{binder, registry, {"tpu-scheduler", "tpu-batch"}};
  for (auto node : {"v5e-0", "v5e-1"}) two.apply_node(node_json(node, "tpu-v5-lite-podslice", "2x2", node, 4));
  auto batch = single_pod("batch", "tpu-v5-lite-podslice", "2x2", 4, "");
  batch.scheduler_name = "tpu-batch";
  two.apply_pod(pod_json(batch));
  two.set_synced();
  EXPECT_EQ(nlohmann::json::parse(two.bind(binding("default", "batch", "v5e-1").dump()).body)["Error"], "");
  EXPECT_EQ(binder.binds, (std::vector<std::string>{"default/batch@v5e-1"}));
}

TEST_F(VerbRefusalTest, BindRefusesAPodThatIsNotPending) {
  add(single_pod("running", "tpu-v5-lite-podslice", "2x2", 4, "v5e-1"));
  EXPECT_EQ(bind(binding("default", "running", "v5e-0")), "pod default/running is already bound to v5e-1");
  auto done = single_pod("done", "tpu-v5-lite-podslice", "2x2", 4, "");
  done.phase = "Succeeded";
  add(done);
  EXPECT_EQ(bind(binding("default", "done", "v5e-0")), "pod default/done has finished");
  auto leaving = pod_json(single_pod("leaving", "tpu-v5-lite-podslice", "2x2", 4, ""));
  leaving["metadata"]["deletionTimestamp"] = "2026-12-06T00:00:00Z";
  service.apply_pod(leaving);
  EXPECT_EQ(bind(binding("default", "leaving", "v5e-0")), "pod default/leaving is being deleted");
  // A bind naming the pod's old incarnation.
  auto stale = binding("default", "serve", "v5e-0");
  stale["PodUID"] = "uid-of-a-deleted-pod";
  EXPECT_EQ(bind(stale), "pod default/serve was replaced (uid uid-serve, not uid-of-a-deleted-pod)");
  EXPECT_TRUE(binder.binds.empty());
}

TEST_F(VerbRefusalTest, BindRefusesANodeOtherThanTheOneTheGroupsReservationNames) {
  for (int i = 0; i < 4; ++i) add(worker(i));
  nlohmann::json args = {{"Pod", pod_json(worker(2))}, {"NodeNames", {"s-0", "s-1", "s-2", "s-3"}}};
  ASSERT_EQ(nlohmann::json::parse(service.filter(args.dump()).body)["NodeNames"], nlohmann::json::array({"s-2"}));
  // Slice s is train's now: worker 1 goes to host 1 of it and nowhere else, not even a free host.
  EXPECT_EQ(bind(binding("default", "train-1-x7k2p", "s-3")),
            "cannot bind default/train-1-x7k2p to s-3: Job default/train holds slice s; worker 1 goes to s-1");
  EXPECT_NE(bind(binding("default", "train-1-x7k2p", "v5e-0")), "");
  EXPECT_TRUE(binder.binds.empty());
  EXPECT_EQ(bind(binding("default", "train-1-x7k2p", "s-1")), "");
  EXPECT_EQ(binder.binds, (std::vector<std::string>{"default/train-1-x7k2p@s-1"}));
}

TEST_F(VerbRefusalTest, ARetriedBindToTheSameNodeStillSucceedsWithoutASecondBinding) {
  EXPECT_EQ(bind(binding("default", "serve", "v5e-1")), "");
  EXPECT_EQ(bind(binding("default", "serve", "v5e-1")), "");  // kube-scheduler timed out and retried
  EXPECT_EQ(binder.binds, (std::vector<std::string>{"default/serve@v5e-1"}));
  EXPECT_EQ(bind(binding("default", "serve", "v5e-0")), "pod default/serve is already bound to v5e-1");
}

TEST_F(VerbRefusalTest, PreemptOnlySpeaksForOurPods) {
  auto preempt = [&](const nlohmann::json& pod) {
    nlohmann::json args = {{"Pod", pod}, {"NodeNameToMetaVictims", {{"v5e-0", {{"Pods", nlohmann::json::array()}}}}}};
    return service.preempt(args.dump());
  };
  auto theirs = single_pod("theirs", "tpu-v5-lite-podslice", "2x2", 4, "");
  theirs.scheduler_name = "default-scheduler";
  auto reply = preempt(pod_json(theirs));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(nlohmann::json::parse(reply.body),
            nlohmann::json({{"NodeNameToMetaVictims", nullptr},
                            {"Error",
                             "tpu-extender does not preempt for it: pod default/theirs belongs to scheduler "
                             "default-scheduler, not to tpu-extender's (tpu-scheduler)"}}));
  PodFields no_tpu;
  no_tpu.name = "no-tpu";
  reply = preempt(pod_json(no_tpu));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["Error"],
            "tpu-extender does not preempt for it: pod default/no-tpu requests no google.com/tpu");
  reply = preempt(pod_json(single_pod("mine", "tpu-v5-lite-podslice", "2x2", 4, "")));
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(nlohmann::json::parse(reply.body)["NodeNameToMetaVictims"].contains("v5e-0")) << reply.body;
}

TEST_F(VerbRefusalTest, AnotherSchedulersParkedPodIsNeverNudged) {
  auto parked = [&](const std::string& name, const std::string& scheduler) {
    auto fields = single_pod(name, "tpu-v5-lite-podslice", "2x2", 4, "");
    fields.scheduler_name = scheduler;
    auto pod = pod_json(fields);
    pod["status"]["conditions"] = {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
    service.apply_pod(pod);
  };
  parked("theirs", "default-scheduler");
  parked("mine", "tpu-scheduler");
  auto upkeep = service.upkeep(std::chrono::steady_clock::now(), std::chrono::minutes(10));
  std::vector<std::string> nudged;
  for (const auto& pod : upkeep.nudge) nudged.push_back(pod.name);
  EXPECT_THAT(nudged, ::testing::Contains("mine"));
  EXPECT_THAT(nudged, ::testing::Not(::testing::Contains("theirs")));
}

// One verb as the tests call it, and what its reply to a refused request must look like.
struct Verb {
  std::string name;
  std::function<ExtenderService::Reply(ExtenderService&, std::string_view)> call;
};
const std::vector<Verb>& verbs() {
  static const std::vector<Verb> all = {
      {"filter", [](ExtenderService& s, std::string_view body) { return s.filter(body); }},
      {"prioritize", [](ExtenderService& s, std::string_view body) { return s.prioritize(body); }},
      {"bind", [](ExtenderService& s, std::string_view body) { return s.bind(body); }},
      {"preempt", [](ExtenderService& s, std::string_view body) { return s.preempt(body); }},
  };
  return all;
}

// The verb's JSON type with Error set: filter and bind at 200 (kube-scheduler reads Error), prioritize and
// preempt at 400 (kube-scheduler reads no body at other statuses).
void expect_refusal(const std::string& verb, const ExtenderService::Reply& reply, const std::string& body) {
  SCOPED_TRACE(verb + " " + body.substr(0, 120));
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << reply.body;
  ASSERT_TRUE(parsed["Error"].is_string()) << reply.body;
  EXPECT_NE(parsed["Error"], "") << reply.body;
  if (verb == "filter") {
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(parsed, nlohmann::json({{"Nodes", nullptr},
                                      {"NodeNames", nullptr},
                                      {"FailedNodes", nlohmann::json::object()},
                                      {"FailedAndUnresolvableNodes", nlohmann::json::object()},
                                      {"Error", parsed["Error"]}}));
  } else if (verb == "bind") {
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(parsed.size(), 1u) << reply.body;
  } else if (verb == "prioritize") {
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(parsed.size(), 1u) << reply.body;
  } else {
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(parsed, nlohmann::json({{"NodeNameToMetaVictims", nullptr}, {"Error", parsed["Error"]}}));
  }
}

std::string deep(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST_F(VerbRefusalTest, BodiesNested100000DeepAnswerEachVerbsTypeQuicklyWithoutCrashing) {
  const std::string pod = pod_json(single_pod("serve", "tpu-v5-lite-podslice", "2x2", 4, "")).dump();
  const std::string pod_deep = R"({"metadata":{"name":"x","labels":)" + deep(100'000) + "}}";
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"filter", R"({"Pod":)" + pod_deep + R"(,"NodeNames":["v5e-0"]})"},
      {"filter",
       R"({"Pod":)" + pod + R"(,"Nodes":{"items":[{"metadata":{"name":"v5e-0"},"x":)" + deep(100'000) + "}]}}"},
      {"filter", R"({"Pod":)" + pod + R"(,"NodeNames":["v5e-0"],"Other":)" + deep(100'000) + "}"},
      {"prioritize", R"({"Pod":)" + pod_deep + R"(,"NodeNames":["v5e-0"]})"},
      {"prioritize", R"({"Pod":)" + pod + R"(,"Nodes":{"items":[)" + deep(100'000) + "]}}"},
      {"prioritize", R"({"Pod":)" + pod + R"(,"NodeNames":[)" + deep(100'000) + "]}"},
      {"bind", R"({"PodName":"serve","PodNamespace":"default","Node":"v5e-0","X":)" + deep(100'000) + "}"},
      {"bind", deep(100'000)},
      {"preempt", R"({"Pod":)" + pod_deep + "}"},
      {"preempt",
       R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":{"Pods":[{"metadata":)" + deep(100'000) + "}]}}}"},
      {"preempt", R"({"Pod":)" + pod + R"(,"NodeNameToMetaVictims":{"v5e-0":)" + deep(100'000) + "}}"},
  };
  for (const auto& [name, body] : bodies) {
    for (const auto& verb : verbs()) {
      if (verb.name != name) continue;
      auto start = std::chrono::steady_clock::now();
      auto reply = verb.call(service, body);
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
      expect_refusal(name, reply, body);
      EXPECT_THAT(reply.body, HasSubstr("nested deeper than 64 levels"));
    }
  }
  EXPECT_TRUE(binder.binds.empty());
}

TEST_F(VerbRefusalTest, MalformedBodiesAnswerEachVerbsTypeWithAnError) {
  const std::string pod = pod_json(single_pod("serve", "tpu-v5-lite-podslice", "2x2", 4, "")).dump();
  const std::string filter_args = R"({"Pod":)" + pod + R"(,"NodeNames":["v5e-0","v5e-1"]})";
  const std::string nodes_args = R"({"Pod":)" + pod + R"(,"Nodes":{"items":[{"metadata":{"name":"v5e-0"}}]}})";
  const std::string bind_args = R"({"PodName":"serve","PodNamespace":"default","Node":"v5e-0"})";
  const std::string preempt_args = R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":{"Pods":[]}}})";
  const std::vector<std::string> any_verb = {"",  " ",       "not json", "null", "[]",
                                             "7", "\"Pod\"", "{",        "{}",   "\xff\xfe{}"};
  std::vector<std::pair<std::string, std::string>> bodies;
  for (const auto& verb : verbs()) {
    for (const auto& body : any_verb) bodies.emplace_back(verb.name, body);
  }
  for (const auto* verb : {"filter", "prioritize"}) {
    for (
        const std::string& body : std::vector<std::string>{
            filter_args.substr(0, filter_args.size() / 2),  // truncated
            nodes_args.substr(0, nodes_args.size() - 1),
            filter_args + "x",
            R"({"Pod":1,"NodeNames":["v5e-0"]})",
            R"({"Pod":"serve","NodeNames":["v5e-0"]})",
            R"({"Pod":[],"NodeNames":["v5e-0"]})",
            R"({"Pod":{"metadata":{"name":5}},"NodeNames":["v5e-0"]})",
            R"({"Pod":{"metadata":{"name":"p"},"spec":{"containers":[{"resources":{"requests":{"google.com/tpu":"lots"}}}]}},"NodeNames":["v5e-0"]})",
            R"({"Pod":)" + pod + "}",
            R"({"Pod":)" + pod + R"(,"NodeNames":"v5e-0"})",
            R"({"Pod":)" + pod + R"(,"NodeNames":[1]})",
            R"({"Pod":)" + pod + R"(,"NodeNames":{"v5e-0":true}})",
            R"({"Pod":)" + pod + R"(,"Nodes":7})",
            R"({"Pod":)" + pod + R"(,"Nodes":{"items":{}}})",
            R"({"Pod":)" + pod + R"(,"Nodes":{"items":[1]}})",
            R"({"Pod":)" + pod + R"(,"Nodes":{"items":[{"metadata":{"name":["v5e-0"]}}]}})",
        }) {
      bodies.emplace_back(verb, body);
    }
  }
  for (const std::string& body : std::vector<std::string>{
           bind_args.substr(0, 30),
           std::string(R"({"PodName":"serve","PodNamespace":"default"})"),
           std::string(R"({"PodName":1,"PodNamespace":"default","Node":"v5e-0"})"),
           std::string(R"({"PodName":"serve","PodNamespace":["default"],"Node":"v5e-0"})"),
           std::string(R"({"PodName":"serve","PodNamespace":"default","Node":{}})"),
           std::string(R"({"PodName":"serve","PodNamespace":"default","Node":"v5e-0","PodUID":5})"),
           std::string(R"({"PodName":"","PodNamespace":"default","Node":"v5e-0"})"),
       }) {
    bodies.emplace_back("bind", body);
  }
  for (const std::string& body : std::vector<std::string>{
           preempt_args.substr(0, preempt_args.size() - 3),
           std::string(R"({"NodeNameToVictims":{}})"),
           std::string(R"({"Pod":1})"),
           R"({"Pod":)" + pod + R"(,"NodeNameToVictims":[]})",
           R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":1}})",
           R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":{"Pods":{}}}})",
           R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":{"Pods":[1]}}})",
           R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":{"Pods":[{"metadata":{"uid":5}}]}}})",
           R"({"Pod":)" + pod + R"(,"NodeNameToVictims":{"v5e-0":{"NumPDBViolations":"none"}}})",
           R"({"Pod":)" + pod + R"(,"NodeNameToMetaVictims":{"v5e-0":{"Pods":[{"UID":["u"]}]}}})",
           R"({"Pod":{"metadata":{}},"NodeNameToVictims":{}})",
       }) {
    bodies.emplace_back("preempt", body);
  }
  for (const auto& [name, body] : bodies) {
    for (const auto& verb : verbs()) {
      if (verb.name == name) expect_refusal(name, verb.call(service, body), body);
    }
  }
  // The well-formed bodies these were made from are answered.
  EXPECT_EQ(nlohmann::json::parse(service.filter(filter_args).body)["Error"], "");
  EXPECT_EQ(service.prioritize(nodes_args).status, 200);
  EXPECT_EQ(service.preempt(preempt_args).status, 200);
  EXPECT_EQ(bind(nlohmann::json::parse(bind_args)), "");
}

TEST_F(VerbRefusalTest, BeforeTheCacheHasSyncedPrioritizeAndPreemptAnswer503WithTheirType) {
  ExtenderService fresh{binder, registry};
  auto reply = fresh.prioritize(R"({"Pod":{},"NodeNames":[]})");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["Error"], "tpu-extender has not finished reading Nodes and Pods yet");
  reply = fresh.preempt(R"({"Pod":{}})");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["NodeNameToMetaVictims"], nullptr);
}

}  // namespace
}  // namespace tpustack::extender
