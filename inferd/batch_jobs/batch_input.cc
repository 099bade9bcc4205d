#include "inferd/batch_jobs/batch_input.h"

#include <unordered_set>

#include "common/json/parse_json.h"

namespace tpustack::inferd::batch_jobs {

namespace {

using nlohmann::json;

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// Whether one parsed line can be sent, or why not.
Result<void, BatchError> check_line(const json& request, std::string_view endpoint, int64_t line) {
  auto missing = [&](const char* param) {
    return BatchError{"missing_required_parameter",
                      std::string("This line is missing the required parameter '") + param + "'.", line, param};
  };
  if (!request.is_object()) return BatchError{"invalid_json_line", "This line is not a JSON object.", line, ""};
  const json& custom_id = tpustack::json::member(request, "custom_id");
  if (!custom_id.is_string() || custom_id.get_ref<const std::string&>().empty()) return missing("custom_id");
  const json& method = tpustack::json::member(request, "method");
  if (!method.is_string()) return missing("method");
  if (method != "POST") {
    return BatchError{"invalid_method", "The method of every request in a batch must be POST.", line, "method"};
  }
  const json& url = tpustack::json::member(request, "url");
  if (!url.is_string()) return missing("url");
  if (url != endpoint) {
    return BatchError{
        "invalid_url",
        "The url '" + url.get<std::string>() + "' does not match the batch's endpoint '" + std::string(endpoint) + "'.",
        line, "url"};
  }
  const json& body = tpustack::json::member(request, "body");
  if (!body.is_object()) return missing("body");
  return {};
}

}  // namespace

bool is_batch_endpoint(std::string_view endpoint) { return endpoint == "/v1/embeddings"; }

Result<std::vector<InputLine>, std::vector<BatchError>> read_input_file(std::string_view text,
                                                                        std::string_view endpoint) {
  std::vector<InputLine> lines;
  std::vector<BatchError> errors;
  std::unordered_set<std::string> seen;
  int64_t number = 0;
  for (size_t start = 0; start < text.size() && errors.size() < max_reported_errors;) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (blank(line)) continue;
    auto parsed = tpustack::json::parse_json(line, "line " + std::to_string(number));
    if (!parsed) {
      errors.push_back(
          {"invalid_json_line", "This line is not parseable as valid JSON: " + parsed.error().message, number, ""});
      continue;
    }
    if (auto checked = check_line(*parsed, endpoint, number); !checked) {
      errors.push_back(checked.error());
      continue;
    }
    std::string custom_id = (*parsed)["custom_id"].get<std::string>();
    if (!seen.insert(custom_id).second) {
      errors.push_back({"duplicate_custom_id",
                        "The custom_id '" + custom_id +
                            "' is a duplicate of another request's; custom_id must be unique in a batch.",
                        number, "custom_id"});
      continue;
    }
    lines.push_back({number, std::move(custom_id), (*parsed)["body"].dump()});
  }
  if (errors.empty() && lines.empty()) {
    errors.push_back({"empty_file", "The input file has no requests.", std::nullopt, ""});
  }
  if (errors.empty() && lines.size() > max_batch_lines) {
    errors.push_back({"too_many_requests",
                      "The input file has " + std::to_string(lines.size()) + " requests; a batch takes at most " +
                          std::to_string(max_batch_lines) + ".",
                      std::nullopt, ""});
  }
  if (!errors.empty()) return errors;
  return lines;
}

}  // namespace tpustack::inferd::batch_jobs
