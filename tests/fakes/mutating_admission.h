#pragma once

#include <map>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "tests/fakes/api_path.h"
#include "tests/fakes/fake_api_store.h"

namespace tpustack::fakes {

// kube-apiserver's MutatingAdmissionWebhook stage for creates, as the real one runs it: every
// MutatingWebhookConfiguration in the store whose rules, namespaceSelector and objectSelector match is called
// over HTTPS (clientConfig.url, verified against caBundle, within timeoutSeconds) with an AdmissionReview
// admission.k8s.io/v1; its JSONPatch is applied; a webhook that fails or times out is skipped under
// failurePolicy Ignore and fails the create under Fail; one that denies fails it. A webhook with
// reinvocationPolicy IfNeeded is called once more when a later webhook changed the object. A clientConfig.service
// is reached at the address the test routed it to (ServiceRoutes), its certificate verified for
// `<service>.<namespace>.svc` as the API server does; an unrouted one counts as a failed call.
class MutatingAdmission {
 public:
  // "namespace/name:port" -> "127.0.0.1:PORT".
  using ServiceRoutes = std::map<std::string, std::string>;
  MutatingAdmission(const FakeApiStore& store, ServiceRoutes services)
      : store_(store), services_(std::move(services)) {}

  // The object as it would be stored; throws ApiFailure when admission refuses it.
  nlohmann::json admit_create(const GroupResource& resource, const std::string& version, const std::string& ns,
                              nlohmann::json object) const;

 private:
  const FakeApiStore& store_;
  ServiceRoutes services_;
};

}  // namespace tpustack::fakes
