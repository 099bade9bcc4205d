#include "extender/admission/admission_review.h"

#include "common/encoding/base64.h"
#include "common/json/parse_json.h"

namespace tpustack::admission {

namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool AdmissionRequest::creates_pod() const {
  return group.empty() && kind == "Pod" && operation == "CREATE" && sub_resource.empty() && object.is_object();
}

Result<AdmissionRequest> read_admission_review(std::string_view body) {
  auto parsed = tpustack::json::parse_json(body, "AdmissionReview");
  if (!parsed) return parsed.error();
  const json& review = *parsed;
  if (!review.is_object()) return Error{"AdmissionReview must be a JSON object"};
  if (text(review, "apiVersion") != kAdmissionApiVersion || text(review, "kind") != "AdmissionReview") {
    return Error{"expected apiVersion " + std::string(kAdmissionApiVersion) +
                 " kind AdmissionReview, got apiVersion \"" + text(review, "apiVersion") + "\" kind \"" +
                 text(review, "kind") + "\""};
  }
  auto it = review.find("request");
  if (it == review.end() || !it->is_object()) return Error{"AdmissionReview without a request"};
  const json& request = *it;
  AdmissionRequest read;
  read.uid = text(request, "uid");
  if (read.uid.empty()) return Error{"AdmissionReview request without a uid"};
  if (auto kind = request.find("kind"); kind != request.end()) {
    read.group = text(*kind, "group");
    read.kind = text(*kind, "kind");
  }
  read.operation = text(request, "operation");
  read.sub_resource = text(request, "subResource");
  read.ns = text(request, "namespace");
  if (auto object = request.find("object"); object != request.end()) read.object = *object;
  return read;
}

std::string admission_review_response(const AdmissionRequest& request, const json& patch) {
  json response = {{"uid", request.uid}, {"allowed", true}};
  if (patch.is_array() && !patch.empty()) {
    response["patchType"] = "JSONPatch";
    response["patch"] = base64_encode(patch.dump());
  }
  return json{{"apiVersion", kAdmissionApiVersion}, {"kind", "AdmissionReview"}, {"response", std::move(response)}}
      .dump();
}

}  // namespace tpustack::admission
