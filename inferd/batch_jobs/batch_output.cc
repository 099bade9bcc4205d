#include "inferd/batch_jobs/batch_output.h"

#include <nlohmann/json.hpp>

namespace tpustack::inferd::batch_jobs {

namespace {

using nlohmann::json;

// The body is the endpoint's own JSON text, spliced in unchanged: the output carries exactly what it answered.
std::string answered_line(const std::string& id, const LineOutcome& line, const std::string& request_id) {
  return "{\"id\":" + json(id).dump() + ",\"custom_id\":" + json(line.custom_id).dump() +
         ",\"response\":{\"status_code\":" + std::to_string(*line.status_code) +
         ",\"request_id\":" + json(request_id).dump() + ",\"body\":" + line.body + "},\"error\":null}\n";
}

std::string expired_line(const std::string& id, const LineOutcome& line) {
  return json({{"id", id},
               {"custom_id", line.custom_id},
               {"response", nullptr},
               {"error",
                {{"code", "batch_expired"},
                 {"message", "This request could not be executed before the completion window expired."}}}})
             .dump() +
         "\n";
}

}  // namespace

OutputFiles assemble_output(const std::vector<LineOutcome>& lines, BatchStep finish,
                            const std::function<std::string(std::string_view prefix)>& new_id) {
  OutputFiles files;
  for (const LineOutcome& line : lines) {
    if (!line.status_code && finish != BatchStep::expire) continue;
    const std::string id = new_id("batch_req_");
    if (!line.status_code) {
      files.errors += expired_line(id, line);
      ++files.error_lines;
      continue;
    }
    const std::string request_id = new_id("req_");
    if (*line.status_code == 200) {
      files.output += answered_line(id, line, request_id);
      ++files.output_lines;
    } else {
      files.errors += answered_line(id, line, request_id);
      ++files.error_lines;
    }
  }
  return files;
}

bool answer_is_transient(int status_code) {
  return status_code == 429 || status_code == 499 || status_code == 503 || status_code == 504;
}

}  // namespace tpustack::inferd::batch_jobs
