#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inferd/batch_jobs/batch_lifecycle.h"

namespace tpustack::inferd::batch_jobs {

// A batch line's answer: the status and JSON body the endpoint answered, or none yet.
struct LineOutcome {
  std::string custom_id;
  std::optional<int> status_code;
  std::string body;  // the endpoint's JSON answer; empty while unanswered
};

// A batch's output file (the lines answered 200) and error file (the others), as JSON Lines.
struct OutputFiles {
  std::string output;
  std::string errors;
  size_t output_lines = 0;
  size_t error_lines = 0;
};

// OpenAI's request output objects for `lines`, in their order: {"id","custom_id","response":{status_code,request_id,
// body},"error":null}. Unanswered lines are left out when the batch was cancelled and written to the error file as
// batch_expired when it expired; `finish` is the step that finishes the batch. `new_id` makes ids ("batch_req_",
// "req_").
OutputFiles assemble_output(const std::vector<LineOutcome>& lines, BatchStep finish,
                            const std::function<std::string(std::string_view prefix)>& new_id);

// Whether an answer with this status says "not now" (the queue was full, the server is stopping, the line's time ran
// out) rather than answering the line: such a line runs again later instead of going to the error file.
bool answer_is_transient(int status_code);

}  // namespace tpustack::inferd::batch_jobs
