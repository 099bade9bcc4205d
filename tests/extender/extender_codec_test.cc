#include <gtest/gtest.h>

#include "extender/wire/extender_codec.h"
#include "tests/extender/cluster_fixture.h"

namespace tpustack::extender::wire {
namespace {

using testing::captured_scheduler_body;

TEST(ExtenderCodec, ReadsBothFormsKubeSchedulerSends) {
  auto names = parse_extender_args(captured_scheduler_body("filter-ExtenderArgs-nodeCacheCapable.json")).value();
  EXPECT_FALSE(names.nodes_form);
  EXPECT_EQ(names.node_names, (std::vector<std::string>{"tpu-node-1", "tpu-node-2"}));
  EXPECT_EQ(names.pod["metadata"]["name"], "tpu-pod-nodecache");

  auto nodes = parse_extender_args(captured_scheduler_body("filter-ExtenderArgs.json")).value();
  EXPECT_TRUE(nodes.nodes_form);
  EXPECT_EQ(nodes.node_names, (std::vector<std::string>{"tpu-node-1", "tpu-node-2"}));
  EXPECT_EQ(nodes.node_items.size(), 2u);
}

// The streaming reader keeps the DOM's rules: keys in any case with the exact spelling first, the last
// of repeated keys, null as absent, and members it does not need only validated.
TEST(ExtenderCodec, ReadsKeysAsTheDomWould) {
  auto args =
      parse_extender_args(
          R"({"Extra":{"NodeNames":[1]},"pod":{"a":[1,{"b":null}]},"nodenames":["x"],"NodeNames":["a","b"],"NodeNames":["c"]})")
          .value();
  EXPECT_EQ(args.pod, nlohmann::json::parse(R"({"a":[1,{"b":null}]})"));
  EXPECT_EQ(args.node_names, (std::vector<std::string>{"c"}));

  auto fallback =
      parse_extender_args(R"({"Pod":{},"NodeNames":null,"NODES":{"items":[{"metadata":{"name":"n"}}]}})").value();
  EXPECT_TRUE(fallback.nodes_form);
  EXPECT_EQ(fallback.node_names, (std::vector<std::string>{"n"}));

  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":[["a"]]})"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":{"a":"b"}})"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":null,"NodeNames":["a"]})"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":["a"]} x)"));
}

// Plain name lists skip nlohmann's lexer; anything else in or around them still reads as JSON does.
TEST(ExtenderCodec, PlainAndEscapedNodeNamesReadAlike) {
  auto plain = parse_extender_args(R"({"Pod":{"x":"]"}, "NodeNames" : [ "a" ,"b"],"Other":"[\"NodeNames\"]"})").value();
  EXPECT_EQ(plain.node_names, (std::vector<std::string>{"a", "b"}));
  auto escaped = parse_extender_args(R"({"nodenames":["a"],"NodeNames":["\u0061","é"],"Pod":{}})").value();
  EXPECT_EQ(escaped.node_names, (std::vector<std::string>{"a", "é"}));
  auto repeated = parse_extender_args(R"({"Pod":{},"NodeNames":["\n"],"NodeNames":["c"]})").value();
  EXPECT_EQ(repeated.node_names, (std::vector<std::string>{"c"}));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":["a",]})"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":["a"]})"
                                   "\n]"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":["a"],})"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{"a":01},"NodeNames":["a"]})"));
}

TEST(ExtenderCodec, FilterResultHasTheShapeKubeSchedulerAccepted) {
  auto args = parse_extender_args(captured_scheduler_body("filter-ExtenderArgs.json")).value();
  FilterOutcome outcome;
  outcome.passed = {"tpu-node-1"};
  outcome.failed = {{"tpu-node-2", std::make_shared<const std::string>("slice \"x\" busy")}};
  auto sent = nlohmann::json::parse(encode_filter_result(outcome, args));
  auto accepted = nlohmann::json::parse(captured_scheduler_body("filter-ExtenderFilterResult-response-sent.json"));
  for (const auto& [key, value] : accepted.items()) EXPECT_TRUE(sent.contains(key)) << key;
  EXPECT_EQ(sent["Nodes"]["items"].size(), 1u);
  EXPECT_EQ(sent["Nodes"]["items"][0], args.node_items[0]);
  EXPECT_EQ(sent["FailedNodes"]["tpu-node-2"], "slice \"x\" busy");

  args.nodes_form = false;
  sent = nlohmann::json::parse(encode_filter_result(outcome, args));
  EXPECT_TRUE(sent["Nodes"].is_null());
  EXPECT_EQ(sent["NodeNames"], nlohmann::json::array({"tpu-node-1"}));
  EXPECT_EQ(sent["Error"], "");
}

TEST(ExtenderCodec, PrioritizeAnswersABareHostPriorityList) {
  auto sent = nlohmann::json::parse(encode_host_priorities({{"tpu-node-1", 5}, {"tpu-node-2", 5}}));
  EXPECT_EQ(sent, nlohmann::json::parse(captured_scheduler_body("prioritize-HostPriorityList-response-sent.json")));
}

TEST(ExtenderCodec, BindingArgsAndResult) {
  auto args = parse_binding_args(captured_scheduler_body("bind-ExtenderBindingArgs.json")).value();
  EXPECT_EQ(args.pod_name, "tpu-pod-bind");
  EXPECT_EQ(args.pod_namespace, "default");
  EXPECT_EQ(args.pod_uid, "f52c585d-b6d7-48c1-a05e-d58508598368");
  EXPECT_EQ(args.node, "tpu-node-1");
  EXPECT_EQ(nlohmann::json::parse(encode_binding_result("")), nlohmann::json({{"Error", ""}}));
  // Go's decoder matches keys in any case, so lower-case keys are read too.
  EXPECT_EQ(parse_binding_args(R"({"podName":"p","podNamespace":"ns","node":"n"})")->pod_name, "p");
}

TEST(ExtenderCodec, PreemptionInMetaAndFullForms) {
  auto meta =
      parse_preemption_args(
          R"({"Pod":{"metadata":{"name":"p"}},"NodeNameToMetaVictims":{"n1":{"Pods":[{"UID":"u1"}],"NumPDBViolations":2}}})")
          .value();
  ASSERT_EQ(meta.victims.count("n1"), 1u);
  EXPECT_EQ(meta.victims["n1"].pod_uids, (std::vector<std::string>{"u1"}));
  EXPECT_EQ(meta.victims["n1"].num_pdb_violations, 2);
  auto full =
      parse_preemption_args(
          R"({"Pod":{"metadata":{"name":"p"}},"NodeNameToVictims":{"n1":{"Pods":[{"metadata":{"uid":"u9"}}]}}})")
          .value();
  EXPECT_EQ(full.victims["n1"].pod_uids, (std::vector<std::string>{"u9"}));
  auto sent = nlohmann::json::parse(encode_preemption_result(meta.victims));
  EXPECT_EQ(sent["NodeNameToMetaVictims"]["n1"]["Pods"][0]["UID"], "u1");
  EXPECT_EQ(sent["NodeNameToMetaVictims"]["n1"]["NumPDBViolations"], 2);
}

TEST(ExtenderCodec, MalformedBodiesAreClearErrorsNotCrashes) {
  EXPECT_FALSE(parse_extender_args("{not json"));
  EXPECT_FALSE(parse_extender_args("[]"));
  EXPECT_FALSE(parse_extender_args(R"({"NodeNames":["a"]})"));
  EXPECT_FALSE(parse_extender_args(R"({"Pod":{},"NodeNames":[1]})"));
  EXPECT_FALSE(parse_binding_args(R"({"PodName":"p"})"));
  EXPECT_EQ(parse_extender_args(R"({"Pod":{}})").error().message, "ExtenderArgs has neither NodeNames nor Nodes");
  EXPECT_EQ(parse_preemption_args(R"({"Pod":{},"NodeNameToMetaVictims":{"n":{"Pods":{}}}})").error().message,
            "ExtenderPreemptionArgs.NodeNameToMetaVictims[n].Pods must be a list");
  auto error = nlohmann::json::parse(encode_filter_error("ExtenderArgs is not valid JSON"));
  EXPECT_EQ(error["Error"], "ExtenderArgs is not valid JSON");
}

TEST(ExtenderCodec, EveryBodyIsReadWithTheNestingLimit) {
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  auto message = [](auto parse, const std::string& body) {
    auto parsed = parse(body);
    return parsed ? std::string("no error") : parsed.error().message;
  };
  EXPECT_EQ(message(parse_extender_args, R"({"Pod":{"x":)" + deep + R"(},"NodeNames":[]})"),
            "ExtenderArgs is nested deeper than 64 levels");
  EXPECT_EQ(message(parse_binding_args, R"({"PodName":)" + deep + "}"),
            "ExtenderBindingArgs is nested deeper than 64 levels");
  EXPECT_EQ(message(parse_preemption_args, R"({"Pod":{},"NodeNameToVictims":)" + deep + "}"),
            "ExtenderPreemptionArgs is nested deeper than 64 levels");
  // 62 levels inside the Pod of a request (64 in all) is still read.
  const std::string ok = std::string(62, '[') + std::string(62, ']');
  EXPECT_EQ(parse_extender_args(R"({"Pod":{"x":)" + ok + R"(},"NodeNames":[]})")->pod["x"].dump(), ok);
}

TEST(ExtenderCodec, AVerbErrorIsThatVerbsTypeWithErrorSet) {
  EXPECT_EQ(nlohmann::json::parse(encode_verb_error("filter", "too large")),
            nlohmann::json::parse(encode_filter_error("too large")));
  EXPECT_EQ(nlohmann::json::parse(encode_verb_error("bind", "busy")), nlohmann::json({{"Error", "busy"}}));
  EXPECT_EQ(nlohmann::json::parse(encode_verb_error("prioritize", "busy")), nlohmann::json({{"Error", "busy"}}));
  EXPECT_EQ(nlohmann::json::parse(encode_verb_error("preempt", "say \"no\"")),
            nlohmann::json({{"NodeNameToMetaVictims", nullptr}, {"Error", "say \"no\""}}));
  EXPECT_EQ(nlohmann::json::parse(encode_verb_error("frobnicate", "unknown verb frobnicate")),
            nlohmann::json({{"Error", "unknown verb frobnicate"}}));
}

}  // namespace
}  // namespace tpustack::extender::wire
