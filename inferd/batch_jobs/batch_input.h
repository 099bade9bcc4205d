#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/batch_jobs/batch_lifecycle.h"

namespace tpustack::inferd::batch_jobs {

// One request of a batch's input file.
struct InputLine {
  int64_t line = 0;  // 1-based, in the file
  std::string custom_id;
  std::string body;  // the request's JSON body, as the endpoint reads it
};

// The endpoints a batch may name.
bool is_batch_endpoint(std::string_view endpoint);

constexpr size_t max_batch_lines = 50000;  // OpenAI's limit of requests per batch
constexpr size_t max_reported_errors = 10;

// Reads a batch's input file (JSON Lines, blank lines ignored): every line an object with a unique string `custom_id`,
// `method` "POST", `url` equal to `endpoint` and an object `body`. The lines, or the errors that refuse the file
// (validation stops after max_reported_errors).
Result<std::vector<InputLine>, std::vector<BatchError>> read_input_file(std::string_view text,
                                                                        std::string_view endpoint);

}  // namespace tpustack::inferd::batch_jobs
