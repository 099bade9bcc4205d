#pragma once

#include <string>
#include <string_view>

namespace tpustack::inferd::batch_jobs {

// A new object id as OpenAI's look: `prefix` ("file-", "batch_", "batch_req_", "req_") and 24 random hex digits.
std::string random_id(std::string_view prefix);

}  // namespace tpustack::inferd::batch_jobs
