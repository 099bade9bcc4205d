#pragma once

#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack {

// Standard base64 (RFC 4648 §4) with padding, as Kubernetes' []byte fields, AdmissionReview patches and
// OpenAI's encoding_format "base64" carry it.
std::string base64_encode(std::string_view bytes);
// Reads the standard and the URL-safe alphabet, padding optional, ignoring line breaks and spaces (PEM bundles
// pasted into kubeconfigs). An Error naming the first character it cannot read.
Result<std::string> base64_decode(std::string_view text);

}  // namespace tpustack
