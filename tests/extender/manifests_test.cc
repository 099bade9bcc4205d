#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "extender/model/kube_names.h"
#include "extender/model/pod_group.h"
#include "extender/plan/object_list.h"

namespace tpustack::extender {
namespace {

const std::string kDir = std::string(TPUSTACK_SOURCE_DIR) + "/manifests/extender/";

std::vector<nlohmann::json> load(const std::string& file) { return read_object_list(kDir + file); }

const nlohmann::json& find(const std::vector<nlohmann::json>& objects, const std::string& kind,
                           const std::string& name) {
  for (const auto& object : objects) {
    if (object.value("kind", "") == kind && object["metadata"].value("name", "") == name) return object;
  }
  throw std::runtime_error("no " + kind + " " + name);
}

std::string fieldpath_for(const std::string_view annotation) {
  return "metadata.annotations['" + std::string(annotation) + "']";
}

TEST(Manifests, KustomizationListsFilesThatExist) {
  auto kustomization = load("kustomization.yaml").at(0);
  for (const auto& resource : kustomization["resources"]) {
    EXPECT_TRUE(std::filesystem::exists(kDir + resource.get<std::string>())) << resource;
    EXPECT_FALSE(load(resource.get<std::string>()).empty()) << resource;
  }
}

TEST(Manifests, SchedulerCallsEveryVerbOfTheExtenderForTpuPods) {
  auto objects = load("scheduler.yaml");
  const auto& config_map = find(objects, "ConfigMap", "tpu-scheduler-config");
  auto config = parse_object_list(config_map["data"]["config.yaml"].get<std::string>(), "config.yaml").at(0);
  EXPECT_EQ(config["apiVersion"], "kubescheduler.config.k8s.io/v1");
  EXPECT_EQ(config["percentageOfNodesToScore"], 100);
  EXPECT_EQ(config["profiles"][0]["schedulerName"], "tpu-scheduler");
  const auto& extender = config["extenders"].at(0);
  EXPECT_EQ(extender["urlPrefix"], "http://tpu-extender.tpu-system.svc:8888");
  for (const auto& [key, verb] : {std::pair{"filterVerb", "filter"}, std::pair{"prioritizeVerb", "prioritize"},
                                  std::pair{"bindVerb", "bind"}, std::pair{"preemptVerb", "preempt"}}) {
    EXPECT_EQ(extender[key], verb);
  }
  EXPECT_EQ(extender["nodeCacheCapable"], true);
  EXPECT_GT(extender["weight"], 0);
  EXPECT_EQ(extender["managedResources"][0]["name"], std::string(names::kTpuResource));
}

TEST(Manifests, ExtenderMayOnlyReadNodesAndPodsAnnotatePodsBindAndRecordEvents) {
  auto objects = load("rbac.yaml");
  const auto& role = find(objects, "ClusterRole", "tpu-extender");
  std::map<std::string, std::vector<std::string>> verbs;
  for (const auto& rule : role["rules"]) {
    for (const auto& resource : rule["resources"]) verbs[resource] = rule["verbs"].get<std::vector<std::string>>();
  }
  EXPECT_EQ(verbs["nodes"], (std::vector<std::string>{"list", "watch"}));
  EXPECT_EQ(verbs["pods"], (std::vector<std::string>{"get", "list", "watch", "patch"}));
  EXPECT_EQ(verbs["pods/binding"], (std::vector<std::string>{"create"}));
  EXPECT_EQ(verbs["events"], (std::vector<std::string>{"create"}));  // GroupIncomplete, SliceLost
  EXPECT_EQ(verbs.size(), 4u);
}

// The multi-host environment: each TPU container maps the placement annotations written at bind
// to TPU_WORKER_ID and TPU_WORKER_HOSTNAMES through the downward API.
void expect_worker_env(const nlohmann::json& pod_spec) {
  for (const auto& container : pod_spec["containers"]) {
    std::map<std::string, std::string> env;
    for (const auto& var : container.value("env", nlohmann::json::array())) {
      if (var.contains("valueFrom")) env[var["name"]] = var["valueFrom"]["fieldRef"]["fieldPath"];
    }
    EXPECT_EQ(env["TPU_WORKER_ID"], fieldpath_for(names::kWorkerIdAnnotation));
    EXPECT_EQ(env["TPU_WORKER_HOSTNAMES"], fieldpath_for(names::kWorkerHostnamesAnnotation));
    EXPECT_EQ(container["resources"]["requests"][std::string(names::kTpuResource)], 4);
  }
  EXPECT_EQ(pod_spec["schedulerName"], "tpu-scheduler");
  EXPECT_EQ(pod_spec["nodeSelector"][std::string(names::kTopologyLabel)], "4x4");
}

TEST(Manifests, ExampleJobSetIsAFourHostGangWithWorkerEnvironment) {
  auto objects = load("examples/jobset-v6e-4x4.yaml");
  const auto& jobset = find(objects, "JobSet", "train-v6e");
  const auto& job = jobset["spec"]["replicatedJobs"][0]["template"]["spec"];
  EXPECT_EQ(job["parallelism"], 4);
  expect_worker_env(job["template"]["spec"]);
}

TEST(Manifests, ExampleStatefulSetPodsFormOneGroupIndexedByPodIndex) {
  auto objects = load("examples/statefulset-v6e-4x4.yaml");
  const auto& sts = find(objects, "StatefulSet", "infer-v6e");
  expect_worker_env(sts["spec"]["template"]["spec"]);
  StringMap labels;
  for (const auto& [key, value] : sts["spec"]["template"]["metadata"]["labels"].items()) labels[key] = value;
  labels[std::string(names::kStatefulSetPodIndex)] = "2";  // added by the StatefulSet controller
  auto member = group_member("default", labels, {});
  ASSERT_TRUE(member);
  EXPECT_EQ(member->problem, "");
  EXPECT_EQ(member->declared_size, sts["spec"]["replicas"]);
  EXPECT_EQ(member->index, 2);
}

}  // namespace
}  // namespace tpustack::extender
