#include "batch_client.h"

namespace tpustack::inferd::testing {

using nlohmann::json;

std::string embedding_lines(int lines, const std::string& model) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    text += json({{"custom_id", "r" + std::to_string(i)},
                  {"method", "POST"},
                  {"url", "/v1/embeddings"},
                  {"body", {{"model", model}, {"input", "document number " + std::to_string(i)}}}})
                .dump() +
            "\n";
  }
  return text;
}

json upload(ServedInferd& server, const std::string& filename, const std::string& content) {
  const std::string boundary = "----tpustack-test-boundary";
  const std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--" +
                           boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
                           "\"\r\nContent-Type: application/jsonl\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
  const HttpResult result = server.call("POST", "/v1/files", body, "multipart/form-data; boundary=" + boundary);
  if (result.status != 200) throw std::runtime_error("upload failed: " + result.body);
  return json::parse(result.body);
}

json create_batch(ServedInferd& server, const std::string& file_id) {
  const HttpResult result = server.post(
      "/v1/batches",
      json({{"input_file_id", file_id}, {"endpoint", "/v1/embeddings"}, {"completion_window", "24h"}}).dump());
  if (result.status != 200) throw std::runtime_error("creating the batch failed: " + result.body);
  return json::parse(result.body);
}

std::map<std::string, int> custom_id_counts(const std::string& jsonl) {
  std::map<std::string, int> counts;
  for (size_t start = 0; start < jsonl.size();) {
    size_t end = jsonl.find('\n', start);
    if (end == std::string::npos) end = jsonl.size();
    if (end > start) ++counts[json::parse(jsonl.substr(start, end - start))["custom_id"].get<std::string>()];
    start = end + 1;
  }
  return counts;
}

}  // namespace tpustack::inferd::testing
