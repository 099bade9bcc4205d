#pragma once

#include <string_view>

// Names other programs read or write (shared/architecture.md "Contracts"); spelled once here.
namespace tpustack::extender::names {

inline constexpr std::string_view kTpuResource = "google.com/tpu";

inline constexpr std::string_view kAcceleratorLabel = "cloud.google.com/gke-tpu-accelerator";
inline constexpr std::string_view kTopologyLabel = "cloud.google.com/gke-tpu-topology";
inline constexpr std::string_view kNodePoolLabel = "cloud.google.com/gke-nodepool";

inline constexpr std::string_view kJobSetJobKey = "jobset.sigs.k8s.io/job-key";
inline constexpr std::string_view kJobSetName = "jobset.sigs.k8s.io/jobset-name";
// A replicated job of N > 1 child Jobs is a multislice unit: child Job job-index is slice job-index of N.
inline constexpr std::string_view kJobSetReplicatedJob = "jobset.sigs.k8s.io/replicatedjob-name";
inline constexpr std::string_view kJobSetReplicas = "jobset.sigs.k8s.io/replicatedjob-replicas";
inline constexpr std::string_view kJobSetJobIndex = "jobset.sigs.k8s.io/job-index";
inline constexpr std::string_view kJobName = "batch.kubernetes.io/job-name";
inline constexpr std::string_view kLegacyJobName = "job-name";
inline constexpr std::string_view kCompletionIndex = "batch.kubernetes.io/job-completion-index";
inline constexpr std::string_view kStatefulSetPodIndex = "apps.kubernetes.io/pod-index";
inline constexpr std::string_view kGroupLabel = "tpustack.dev/group";
inline constexpr std::string_view kGroupSizeLabel = "tpustack.dev/group-size";
// On the nodes of a pool the provisioner created: whose pool it is (with kGroupLabel).
inline constexpr std::string_view kGroupNamespaceLabel = "tpustack.dev/group-namespace";
// Bumped on a waiting pod when the extender's answer for it changed, so kube-scheduler retries it now.
inline constexpr std::string_view kNudgeAnnotation = "tpustack.dev/nudge";

// The placement record written at bind; read back after a restart and by the containers' env.
inline constexpr std::string_view kSliceAnnotation = "tpustack.dev/slice";
inline constexpr std::string_view kWorkerIdAnnotation = "tpustack.dev/worker-id";
inline constexpr std::string_view kWorkerHostnamesAnnotation = "tpustack.dev/worker-hostnames";

}  // namespace tpustack::extender::names
