// The AdmissionReview codec: what kube-apiserver sends, what it expects back, and what is refused.
#include "extender/admission/admission_review.h"

#include <gtest/gtest.h>

#include "common/encoding/base64.h"
#include "tests/support/result_matchers.h"

namespace tpustack::admission {
namespace {

using nlohmann::json;
using tpustack::testing::value_of;

json review(const json& request) {
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", request}};
}

const json kPodCreate = {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
                         {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                         {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                         {"namespace", "ml"},
                         {"operation", "CREATE"},
                         {"object", {{"metadata", {{"generateName", "train-"}}}}}};

TEST(AdmissionReview, ReadsAPodCreate) {
  auto request = read_admission_review(review(kPodCreate).dump()).value();
  EXPECT_EQ(request.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(request.ns, "ml");
  EXPECT_TRUE(request.creates_pod());
  EXPECT_EQ(request.object["metadata"]["generateName"], "train-");
}

TEST(AdmissionReview, OnlyPodCreatesAreMutated) {
  json update = kPodCreate;
  update["operation"] = "UPDATE";
  EXPECT_FALSE(read_admission_review(review(update).dump())->creates_pod());
  json binding = kPodCreate;
  binding["subResource"] = "binding";
  EXPECT_FALSE(read_admission_review(review(binding).dump())->creates_pod());
  json job = kPodCreate;
  job["kind"] = {{"group", "batch"}, {"version", "v1"}, {"kind", "Job"}};
  EXPECT_FALSE(read_admission_review(review(job).dump())->creates_pod());
}

TEST(AdmissionReview, TheAnswerEchoesTheUidAndCarriesThePatchAsBase64) {
  auto request = read_admission_review(review(kPodCreate).dump()).value();
  const json patch = json::array({{{"op", "add"}, {"path", "/spec/schedulerName"}, {"value", "tpu-scheduler"}}});
  auto answer = json::parse(admission_review_response(request, patch));
  EXPECT_EQ(answer["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(answer["kind"], "AdmissionReview");
  EXPECT_EQ(answer["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(answer["response"]["allowed"], true);
  EXPECT_EQ(answer["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(json::parse(value_of(base64_decode(answer["response"]["patch"].get<std::string>()))), patch);

  auto unchanged = json::parse(admission_review_response(request, json::array()));
  EXPECT_EQ(unchanged["response"], json({{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"}, {"allowed", true}}));
}

TEST(AdmissionReview, RefusesWhatIsNotAnAdmissionReviewV1WithAReason) {
  auto refusal = [](const std::string& body) {
    auto read = read_admission_review(body);
    return read ? std::string("accepted") : read.error().message;
  };
  EXPECT_NE(refusal("{\"apiVersion\":").find("AdmissionReview is not valid JSON"), std::string::npos);
  EXPECT_NE(refusal(std::string(100, '[') + std::string(100, ']')).find("nested deeper"), std::string::npos);
  json v1beta1 = review(kPodCreate);
  v1beta1["apiVersion"] = "admission.k8s.io/v1beta1";
  EXPECT_NE(refusal(v1beta1.dump()).find("expected apiVersion admission.k8s.io/v1"), std::string::npos);
  EXPECT_EQ(refusal(json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}}.dump()),
            "AdmissionReview without a request");
  json no_uid = kPodCreate;
  no_uid.erase("uid");
  EXPECT_EQ(refusal(review(no_uid).dump()), "AdmissionReview request without a uid");
  EXPECT_EQ(refusal("[]"), "AdmissionReview must be a JSON object");
}

}  // namespace
}  // namespace tpustack::admission
