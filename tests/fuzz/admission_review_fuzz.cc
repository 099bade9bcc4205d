// libFuzzer target: arbitrary bytes as the body of a POST /mutate, taken as tpu-extender's admission webhook takes
// it: read_admission_review, mutate_pod for a pod being created, then the AdmissionReview answered. A refusal
// (an Error) is the documented answer to a bad body; mutate_pod never fails, and the answer is always
// an AdmissionReview that echoes the uid.
//   scripts/fuzz.sh admission_review_fuzzer 300
//   admission_review_fuzz_replay tests/fuzz/corpus/admission_review
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "extender/admission/admission_review.h"
#include "extender/admission/pod_mutation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack::admission;
  auto read = read_admission_review(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!read) return 0;
  const AdmissionRequest& review = *read;
  PodMutation mutation;
  if (review.creates_pod()) mutation = mutate_pod(review.object, review.ns, PodMutationSettings{});
  const std::string answer = admission_review_response(review, mutation.patch);
  auto parsed = nlohmann::json::parse(answer, nullptr, false);
  if (parsed.is_discarded() || parsed["response"]["uid"] != review.uid) {
    std::fprintf(stderr, "the answer is not an AdmissionReview for uid %s: %.2000s\n", review.uid.c_str(),
                 answer.c_str());
    std::abort();
  }
  return 0;
}
