#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_api_store.h"

namespace tpustack::e2e {

// A JobSet with one replicated Job of `workers` pods, each asking for `chips` google.com/tpu on a v6e
// slice of `topology`, written as the JobSet and Job controllers would: the JobSet, its child Job, and
// the pods with the JobSet and Indexed Job labels, `schedulerName: tpu-scheduler`, the TPU selectors and
// toleration, and a subdomain for stable hostnames.
// The pods are created in `order` (worker indexes; default 0..workers-1), as a controller may create them.
void create_jobset_group(fakes::FakeApiStore& store, const std::string& ns, const std::string& name,
                         const std::string& topology, int workers, int chips, std::vector<int> order = {});

// Host `host` of a Ready v6e 4x4 pool named `pool`, tainted as GKE taints TPU nodes; `chips` allocatable
// (0: none yet, as before a device plugin registered).
nlohmann::json v6e_4x4_node(const std::string& pool, int host, int chips);

// A stock JobSet, as its user submits it and the JobSet and Job controllers create its objects: `slices` child
// Jobs (one replicated job "workers" with `replicas: slices`) of `workers` pods each, asking for `chips`
// google.com/tpu on a v6e slice of `topology`, with the JobSet and Indexed Job labels, hostnames and the
// subdomain, and nothing tpustack-specific (no schedulerName, toleration or TPU environment: a webhook adds
// them). Creates the JobSet and its Jobs in `store` and returns the pods, slice by slice, for the test to
// create through the API server so that admission sees them.
std::vector<nlohmann::json> stock_jobset(fakes::FakeApiStore& store, const std::string& ns, const std::string& name,
                                         const std::string& topology, int workers, int chips, int slices);

// "g007": the name of group 7 of many, sorting in number order.
std::string numbered_group(int group);

// The pods of that group (of its child Job `job_index`), by worker index.
std::vector<std::string> group_pod_names(const std::string& name, int workers, int job_index = 0);

// The group's work is done: pods Succeeded, Job Complete, JobSet Completed.
void complete_jobset_group(fakes::FakeApiStore& store, const std::string& ns, const std::string& name, int workers);

}  // namespace tpustack::e2e
