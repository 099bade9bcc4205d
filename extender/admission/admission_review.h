#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

// AdmissionReview admission.k8s.io/v1 as kube-apiserver sends it to a mutating webhook, and the review it
// expects back.
namespace tpustack::admission {

inline constexpr std::string_view kAdmissionApiVersion = "admission.k8s.io/v1";

// The parts of request a mutating webhook uses.
struct AdmissionRequest {
  std::string uid;
  std::string group;  // request.kind: "" and "Pod" for core/v1 pods
  std::string kind;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  std::string sub_resource;
  std::string ns;
  nlohmann::json object;  // request.object; null for DELETE

  // A core/v1 Pod being created (not a subresource such as pods/binding).
  bool creates_pod() const;
};

// The request of an AdmissionReview admission.k8s.io/v1, or an Error (answered 400) naming what is wrong: not
// JSON, nested too deep, another apiVersion or kind, no request or request.uid.
Result<AdmissionRequest> read_admission_review(std::string_view body);

// The AdmissionReview answering `request`: allowed, with `patch` (JSON Patch operations) as base64 when it has
// any.
std::string admission_review_response(const AdmissionRequest& request, const nlohmann::json& patch);

}  // namespace tpustack::admission
