#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"
#include "extender/placement/node_judge.h"

// The scheduler extender v1 wire format (k8s.io/kube-scheduler/extender/v1). Those Go structs have
// no json tags, so kube-scheduler sends Go field names (PascalCase); Go's decoder would match any
// case, so keys are read case-insensitively and written in PascalCase.
namespace tpustack::extender::wire {

// Each parse_* returns an Error (kInvalidInput) for a body that is not valid JSON, nests deeper than
// json::JsonLimits, lacks a field or has one of the wrong type; its message says which, for the Error field.

// ExtenderArgs for filter and prioritize: the NodeNames form (nodeCacheCapable) or the Nodes form.
struct ExtenderArgs {
  nlohmann::json pod;
  std::vector<std::string> node_names;  // in both forms
  nlohmann::json node_items;            // Nodes form only: the Node objects as sent, echoed back by filter
  bool nodes_form = false;
};
Result<ExtenderArgs> parse_extender_args(std::string_view body);

// ExtenderFilterResult in the form of the request: Nodes echoes the passing Node objects.
std::string encode_filter_result(const FilterOutcome& outcome, const ExtenderArgs& args);
std::string encode_filter_error(std::string_view error);
// HostPriorityList: a bare array [{"Host":..,"Score":..}].
std::string encode_host_priorities(const std::vector<HostScore>& scores);

struct BindingArgs {
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string node;
};
Result<BindingArgs> parse_binding_args(std::string_view body);
std::string encode_binding_result(std::string_view error);

struct MetaVictims {
  std::vector<std::string> pod_uids;
  std::int64_t num_pdb_violations = 0;
};
// ExtenderPreemptionArgs: NodeNameToMetaVictims (nodeCacheCapable) or NodeNameToVictims with full Pods.
struct PreemptionArgs {
  nlohmann::json pod;
  std::map<std::string, MetaVictims> victims;
};
Result<PreemptionArgs> parse_preemption_args(std::string_view body);
// ExtenderPreemptionResult, always in the meta form.
std::string encode_preemption_result(const std::map<std::string, MetaVictims>& victims);

// The JSON type `verb` answers ("filter", "prioritize", "bind", "preempt") with only its Error set to
// `message` (not empty), for refusals before or instead of the verb's work: an unreadable body, one too
// large, a server too busy. filter: an ExtenderFilterResult; bind: an ExtenderBindingResult; preempt:
// {"NodeNameToMetaVictims":null,"Error":...}; prioritize (whose HostPriorityList has no Error) and any other
// verb: {"Error":...}. kube-scheduler reads Error from filter and bind at status 200; it reads no body at any
// other status, where the Error is for people and logs.
std::string encode_verb_error(std::string_view verb, std::string_view message);

}  // namespace tpustack::extender::wire
