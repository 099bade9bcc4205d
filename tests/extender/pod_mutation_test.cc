// The webhook's pod patch: exact operations for the pods a stock JobSet or Indexed Job creates, and nothing for
// pods that need nothing (already completed, no TPU, applied once already).
#include "extender/admission/pod_mutation.h"

#include <gtest/gtest.h>

namespace tpustack::admission {
namespace {

using nlohmann::json;

const PodMutationSettings kSettings;

// A pod of JobSet `train`, replicated job `slice` with `slices` replicas: worker `worker` of child Job `job`, as
// the JobSet controller creates it (generateName, labels and annotations, hostname and subdomain) on a v6e 4x4
// slice of 4-chip hosts.
json jobset_pod(int job, int worker, int slices = 1) {
  const std::string child = "train-slice-" + std::to_string(job);
  json identity = {{"jobset.sigs.k8s.io/jobset-name", "train"},
                   {"jobset.sigs.k8s.io/replicatedjob-name", "slice"},
                   {"jobset.sigs.k8s.io/replicatedjob-replicas", std::to_string(slices)},
                   {"jobset.sigs.k8s.io/job-index", std::to_string(job)},
                   {"jobset.sigs.k8s.io/job-key", "5f3c1e"},
                   {"batch.kubernetes.io/job-name", child},
                   {"job-name", child},
                   {"batch.kubernetes.io/job-completion-index", std::to_string(worker)}};
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"generateName", child + "-" + std::to_string(worker) + "-"},
        {"namespace", "ml"},
        {"labels", identity},
        {"annotations", identity}}},
      {"spec",
       {{"schedulerName", "default-scheduler"},
        {"hostname", child + "-" + std::to_string(worker)},
        {"subdomain", "train"},
        {"nodeSelector",
         {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"}, {"cloud.google.com/gke-tpu-topology", "4x4"}}},
        {"containers",
         json::array({{{"name", "jax"}, {"image", "jax"}, {"resources", {{"limits", {{"google.com/tpu", "4"}}}}}}})}}}};
}

const json kToleration = {{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}};

TEST(PodMutation, AJobSetWorkerGetsOurSchedulerTheTolerationAndItsSliceEnvironment) {
  auto mutation = mutate_pod(jobset_pod(0, 1), "ml", kSettings);
  const json expected =
      json::array({{{"op", "replace"}, {"path", "/spec/schedulerName"}, {"value", "tpu-scheduler"}},
                   {{"op", "add"}, {"path", "/spec/tolerations"}, {"value", json::array({kToleration})}},
                   {{"op", "add"},
                    {"path", "/spec/containers/0/env"},
                    {"value", json::array({{{"name", "TPU_WORKER_ID"}, {"value", "1"}},
                                           {{"name", "TPU_WORKER_HOSTNAMES"},
                                            {"value",
                                             "train-slice-0-0.train,train-slice-0-1.train,train-slice-0-2.train,"
                                             "train-slice-0-3.train"}}})}}});
  EXPECT_EQ(mutation.patch, expected) << mutation.patch.dump(2);
  EXPECT_EQ(mutation.added,
            (std::vector<std::string>{"schedulerName", "toleration", "TPU_WORKER_ID", "TPU_WORKER_HOSTNAMES"}));
}

TEST(PodMutation, AnIndexedJobWorkerKeepsWhatItHasAndGetsTheRestAppended) {
  json pod = {
      {"metadata",
       {{"generateName", "infer-2-"},
        {"labels", {{"job-name", "infer"}}},
        {"annotations", {{"batch.kubernetes.io/job-completion-index", "2"}}}}},
      {"spec",
       {{"subdomain", "infer-workers"},
        {"nodeSelector",
         {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"}, {"cloud.google.com/gke-tpu-topology", "4x4"}}},
        {"tolerations", json::array({{{"key", "spot"}, {"operator", "Exists"}}})},
        {"containers", json::array({{{"name", "proxy"}},
                                    {{"name", "server"},
                                     {"env", json::array({{{"name", "MODEL"}, {"value", "gemma"}}})},
                                     {"resources", {{"requests", {{"google.com/tpu", 4}}}}}}})}}}};
  auto mutation = mutate_pod(pod, "serving", kSettings);
  const json expected = json::array(
      {{{"op", "add"}, {"path", "/spec/schedulerName"}, {"value", "tpu-scheduler"}},
       {{"op", "add"}, {"path", "/spec/tolerations/-"}, {"value", kToleration}},
       {{"op", "add"}, {"path", "/spec/containers/1/env/-"}, {"value", {{"name", "TPU_WORKER_ID"}, {"value", "2"}}}},
       {{"op", "add"},
        {"path", "/spec/containers/1/env/-"},
        {"value",
         {{"name", "TPU_WORKER_HOSTNAMES"},
          {"value", "infer-0.infer-workers,infer-1.infer-workers,infer-2.infer-workers,infer-3.infer-workers"}}}}});
  EXPECT_EQ(mutation.patch, expected) << mutation.patch.dump(2);
  // What the API server would store: the patch applies as it is.
  EXPECT_NO_THROW(pod.patch(mutation.patch));
}

TEST(PodMutation, APodThatSetsEverythingItselfIsLeftAlone) {
  json pod = jobset_pod(0, 1);
  pod["spec"]["schedulerName"] = "my-scheduler";
  pod["spec"]["tolerations"] = json::array({{{"key", "google.com/tpu"}, {"operator", "Exists"}}});
  pod["spec"]["containers"][0]["env"] =
      json::array({{{"name", "TPU_WORKER_ID"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.x"}}}}}},
                   {{"name", "TPU_WORKER_HOSTNAMES"}, {"value", "a,b,c,d"}}});
  auto mutation = mutate_pod(pod, "ml", kSettings);
  EXPECT_TRUE(mutation.patch.empty()) << mutation.patch.dump(2);
  // A toleration of every taint counts too.
  pod["spec"]["tolerations"] = json::array({{{"operator", "Exists"}}});
  EXPECT_TRUE(mutate_pod(pod, "ml", kSettings).patch.empty());
}

TEST(PodMutation, APodWithoutTpuIsLeftAlone) {
  json pod = jobset_pod(0, 1);
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{"cpu", "2"}}}};
  EXPECT_TRUE(mutate_pod(pod, "ml", kSettings).patch.empty());
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{"google.com/tpu", "0"}}}};
  EXPECT_TRUE(mutate_pod(pod, "ml", kSettings).patch.empty());
  EXPECT_TRUE(mutate_pod(json::object(), "ml", kSettings).patch.empty());
  EXPECT_TRUE(mutate_pod(json::array(), "ml", kSettings).patch.empty());
}

TEST(PodMutation, EachSliceOfAMultisliceJobSetGetsTheMegascaleEnvironment) {
  for (int slice : {0, 1}) {
    json pod = jobset_pod(slice, 0, 2);
    pod = pod.patch(mutate_pod(pod, "ml", kSettings).patch);
    json env;
    for (const auto& var : pod["spec"]["containers"][0]["env"]) env[var["name"].get<std::string>()] = var["value"];
    const std::string prefix = "train-slice-" + std::to_string(slice);
    EXPECT_EQ(env, json({{"TPU_WORKER_ID", "0"},
                         {"TPU_WORKER_HOSTNAMES",
                          prefix + "-0.train," + prefix + "-1.train," + prefix + "-2.train," + prefix + "-3.train"},
                         {"MEGASCALE_NUM_SLICES", "2"},
                         {"MEGASCALE_SLICE_ID", std::to_string(slice)},
                         {"MEGASCALE_COORDINATOR_ADDRESS", "train-slice-0-0.train"},
                         {"MEGASCALE_PORT", "8081"}}))
        << env.dump(2);
  }
}

TEST(PodMutation, APatchedPodNeedsNoSecondPatch) {
  for (const json& original : {jobset_pod(0, 3), jobset_pod(1, 2, 2)}) {
    auto first = mutate_pod(original, "ml", kSettings);
    ASSERT_FALSE(first.patch.empty());
    auto again = mutate_pod(original.patch(first.patch), "ml", kSettings);
    EXPECT_TRUE(again.patch.empty()) << again.patch.dump(2);
  }
}

TEST(PodMutation, SingleHostAndUnnamedWorkersGetNoWorkerVariables) {
  json single_host = jobset_pod(0, 0);
  single_host["spec"]["nodeSelector"]["cloud.google.com/gke-tpu-topology"] = "2x2";
  json without_subdomain = jobset_pod(0, 1);
  without_subdomain["spec"].erase("subdomain");
  json without_index = jobset_pod(0, 1);
  without_index["metadata"]["labels"].erase("batch.kubernetes.io/job-completion-index");
  without_index["metadata"]["annotations"].erase("batch.kubernetes.io/job-completion-index");
  for (const json& pod : {single_host, without_subdomain, without_index}) {
    auto mutation = mutate_pod(pod, "ml", kSettings);
    EXPECT_EQ(mutation.added, (std::vector<std::string>{"schedulerName", "toleration"})) << pod.dump();
  }
}

TEST(PodMutation, TheSchedulerNameIsConfigurable) {
  PodMutationSettings settings;
  settings.scheduler_name = "gang";
  EXPECT_EQ(mutate_pod(jobset_pod(0, 0), "ml", settings).patch[0]["value"], "gang");
}

}  // namespace
}  // namespace tpustack::admission
