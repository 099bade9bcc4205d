#include "inferd/batch_jobs/jobs_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>

#include "common/encoding/percent_encoding.h"
#include "common/json/parse_json.h"
#include "inferd/batch_jobs/batch_input.h"
#include "inferd/batch_jobs/job_runner.h"
#include "inferd/batch_jobs/multipart_form.h"
#include "inferd/batch_jobs/object_id.h"

namespace tpustack::inferd::batch_jobs {

namespace {

using nlohmann::json;

enum class Resource { none, files, file, file_content, batches, batch, batch_cancel };

struct Route {
  Resource resource = Resource::none;
  std::string id;
};

// /v1/files[/{id}[/content]] and /v1/batches[/{id}[/cancel]].
Route route_of(std::string_view path) {
  for (const auto& [prefix, collection, one, action, acted] :
       {std::tuple{std::string_view("/v1/files"), Resource::files, Resource::file, std::string_view("content"),
                   Resource::file_content},
        std::tuple{std::string_view("/v1/batches"), Resource::batches, Resource::batch, std::string_view("cancel"),
                   Resource::batch_cancel}}) {
    if (!path.starts_with(prefix)) continue;
    std::string_view rest = path.substr(prefix.size());
    if (rest.empty()) return {collection, ""};
    if (rest[0] != '/' || rest.size() == 1) return {};
    rest.remove_prefix(1);
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return {one, std::string(rest)};
    if (slash == 0 || rest.substr(slash + 1) != action) return {};
    return {acted, std::string(rest.substr(0, slash))};
  }
  return {};
}

// The value of `key` in a query string, "" when absent.
std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t equals = pair.find('=');
    if (percent_decoded(pair.substr(0, equals), PlusSign::space) == key) {
      return equals == std::string_view::npos ? "" : percent_decoded(pair.substr(equals + 1), PlusSign::space);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

JobsReply json_reply(const json& body) { return {200, body.dump(), "application/json"}; }

// OpenAI's list object: the page's objects and the ids that bound it (null for an empty page).
JobsReply list_reply(json data, bool has_more) {
  json first = data.empty() ? json(nullptr) : data.front()["id"];
  json last = data.empty() ? json(nullptr) : data.back()["id"];
  return json_reply(
      {{"object", "list"}, {"data", std::move(data)}, {"first_id", first}, {"last_id", last}, {"has_more", has_more}});
}

JobsError no_file(const std::string& id) { return {404, "No such File object: " + id, "id"}; }
JobsError no_batch(const std::string& id) { return {404, "No batch found with id '" + id + "'.", "batch_id"}; }

// The store could not do its part (a full disk, a corrupt database): the server's fault, with SQLite's reason.
JobsError store_failed(const Error& error) {
  spdlog::error("batch store: {}", error.message);
  return {500, "the batch store failed: " + error.message, ""};
}

JobsError not_allowed(const JobsCall& call) {
  return {405, call.path + " answers " + jobs_allowed_methods(call.path) + ", not " + call.method, ""};
}

// The metadata a batch may carry: null, or an object of at most 16 string values.
Result<void, JobsError> check_metadata(const json& metadata) {
  if (metadata.is_null()) return {};
  if (!metadata.is_object() || metadata.size() > 16) {
    return JobsError{400, "metadata must be an object of at most 16 keys", "metadata"};
  }
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string() || key.size() > 64 || value.get_ref<const std::string&>().size() > 512) {
      return JobsError{400, "metadata values must be strings (keys up to 64 characters, values up to 512)", "metadata"};
    }
  }
  return {};
}

}  // namespace

bool is_jobs_path(std::string_view path) { return route_of(path).resource != Resource::none; }

std::string jobs_allowed_methods(std::string_view path) {
  switch (route_of(path).resource) {
    case Resource::files:
    case Resource::batches:
      return "GET, HEAD, POST, OPTIONS";
    case Resource::file:
      return "GET, HEAD, DELETE, OPTIONS";
    case Resource::file_content:
    case Resource::batch:
      return "GET, HEAD, OPTIONS";
    case Resource::batch_cancel:
      return "POST, OPTIONS";
    case Resource::none:
      break;
  }
  return "";
}

std::string jobs_route_label(std::string_view path) {
  switch (route_of(path).resource) {
    case Resource::files:
      return "/v1/files";
    case Resource::file:
      return "/v1/files/{id}";
    case Resource::file_content:
      return "/v1/files/{id}/content";
    case Resource::batches:
      return "/v1/batches";
    case Resource::batch:
      return "/v1/batches/{id}";
    case Resource::batch_cancel:
      return "/v1/batches/{id}/cancel";
    case Resource::none:
      break;
  }
  return "other";
}

JobsAnswer JobsApi::handle(const JobsCall& call) {
  try {
    return route(call);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", call.method, call.path, e.what());  // a request's boundary
    return JobsError{500, std::string("internal error: ") + e.what(), ""};
  }
}

JobsAnswer JobsApi::route(const JobsCall& call) {
  const Route route = route_of(call.path);
  const std::string& m = call.method;
  switch (route.resource) {
    case Resource::files:
      if (m == "POST") return upload(call);
      if (m == "GET") return list_files(call);
      break;
    case Resource::file:
      if (m == "GET") {
        auto file = store_.file(route.id);
        if (!file) return store_failed(file.error());
        if (!*file) return no_file(route.id);
        return json_reply(file_json(**file));
      }
      if (m == "DELETE") {
        auto deleted = store_.delete_file(route.id);
        if (!deleted) return store_failed(deleted.error());
        if (!*deleted) return no_file(route.id);
        return json_reply({{"id", route.id}, {"object", "file"}, {"deleted", true}});
      }
      break;
    case Resource::file_content:
      if (m == "GET") {
        auto content = store_.file_content(route.id);
        if (!content) return store_failed(content.error());
        if (!*content) return no_file(route.id);
        return JobsReply{200, std::move(**content), "application/octet-stream"};
      }
      break;
    case Resource::batches:
      if (m == "POST") return create_batch(call);
      if (m == "GET") return list_batches(call);
      break;
    case Resource::batch:
      if (m == "GET") {
        auto batch = store_.batch(route.id);
        if (!batch) return store_failed(batch.error());
        if (!*batch) return no_batch(route.id);
        return json_reply(batch_json(**batch));
      }
      break;
    case Resource::batch_cancel:
      if (m == "POST") return cancel_batch(route.id);
      break;
    case Resource::none:
      return JobsError{404, call.method + " " + call.path + " is not a route of inferd", ""};
  }
  return not_allowed(call);
}

JobsAnswer JobsApi::upload(const JobsCall& call) {
  auto boundary = form_boundary(call.content_type);
  if (!boundary) return JobsError{400, boundary.error().message, ""};
  auto parts = parse_form(call.body, *boundary);
  if (!parts) return JobsError{400, "the multipart/form-data body is malformed: " + parts.error().message, ""};
  const FormPart* file = nullptr;
  std::optional<std::string> purpose;
  for (const FormPart& part : *parts) {
    if (part.name == "file" && part.has_filename) file = &part;
    if (part.name == "purpose") purpose = std::string(part.data);
  }
  if (!purpose) return JobsError{400, "Missing required parameter: 'purpose'.", "purpose"};
  if (*purpose != "batch") {
    return JobsError{400, "inferd takes files with purpose 'batch' only, not '" + *purpose + "'.", "purpose"};
  }
  if (!file) return JobsError{400, "Missing required parameter: 'file' (a part with a filename).", "file"};
  if (file->data.size() > max_file_bytes_) {
    return JobsError{413,
                     "The file has " + std::to_string(file->data.size()) + " bytes; inferd takes at most " +
                         std::to_string(max_file_bytes_) + " (--max-file-bytes).",
                     "file"};
  }
  FileRecord record{random_id("file-"), file->filename, *purpose, static_cast<int64_t>(file->data.size()), unix_now()};
  if (auto added = store_.add_file(record, file->data); !added) return store_failed(added.error());
  spdlog::info("file {} stored: {} ({} bytes)", record.id, record.filename, record.bytes);
  return json_reply(file_json(record));
}

JobsAnswer JobsApi::list_files(const JobsCall& call) {
  auto files = store_.files(query_value(call.query, "purpose"));
  if (!files) return store_failed(files.error());
  json data = json::array();
  for (const FileRecord& file : *files) data.push_back(file_json(file));
  return list_reply(std::move(data), false);
}

JobsAnswer JobsApi::create_batch(const JobsCall& call) {
  auto parsed = tpustack::json::parse_json(call.body, "the request body");
  if (!parsed) return JobsError{400, parsed.error().message, ""};
  const json& body = *parsed;
  if (!body.is_object()) return JobsError{400, "the request body must be a JSON object", ""};
  auto text = [&](const char* key) -> std::optional<std::string> {
    const json& value = tpustack::json::member(body, key);
    if (!value.is_string()) return std::nullopt;
    return value.get<std::string>();
  };
  const auto input_file_id = text("input_file_id");
  if (!input_file_id) return JobsError{400, "Missing required parameter: 'input_file_id'.", "input_file_id"};
  const auto endpoint = text("endpoint");
  if (!endpoint) return JobsError{400, "Missing required parameter: 'endpoint'.", "endpoint"};
  if (!is_batch_endpoint(*endpoint)) {
    return JobsError{400, "inferd runs batches of /v1/embeddings, not " + *endpoint + ".", "endpoint"};
  }
  const auto window = text("completion_window");
  if (!window) return JobsError{400, "Missing required parameter: 'completion_window'.", "completion_window"};
  if (!completion_window_seconds(*window)) {
    return JobsError{400, "completion_window must be '24h', not '" + *window + "'.", "completion_window"};
  }
  const json& metadata = tpustack::json::member(body, "metadata");
  if (auto checked = check_metadata(metadata); !checked) return checked.error();
  const auto file = store_.file(*input_file_id);
  if (!file) return store_failed(file.error());
  if (!*file) return JobsError{404, "No such File object: " + *input_file_id, "input_file_id"};
  if ((*file)->purpose != "batch") {
    return JobsError{400, "The input file must have purpose 'batch', not '" + (*file)->purpose + "'.", "input_file_id"};
  }
  Batch batch = new_batch(random_id("batch_"), *endpoint, *input_file_id, *window, metadata, unix_now());
  if (auto added = store_.add_batch(batch); !added) return store_failed(added.error());
  spdlog::info("batch {} created for {} on {}", batch.id, batch.input_file_id, batch.endpoint);
  wake_runner_();
  return json_reply(batch_json(batch));
}

JobsAnswer JobsApi::list_batches(const JobsCall& call) {
  size_t limit = 20;
  if (const std::string text = query_value(call.query, "limit"); !text.empty()) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 100) {
      return JobsError{400, "limit must be a number from 1 to 100", "limit"};
    }
  }
  auto page = store_.batches(query_value(call.query, "after"), limit);
  if (!page) return store_failed(page.error());
  json data = json::array();
  for (const Batch& batch : page->batches) data.push_back(batch_json(batch));
  return list_reply(std::move(data), page->has_more);
}

JobsAnswer JobsApi::cancel_batch(const std::string& id) {
  auto batch = store_.batch(id);
  if (!batch) return store_failed(batch.error());
  if (!*batch) return no_batch(id);
  const UnixSeconds now = unix_now();
  auto cancelled = store_.update_batch(id, [now](Batch& batch) { return request_cancel(batch, now); });
  if (!cancelled) return JobsError{409, cancelled.error().message, ""};
  wake_runner_();
  return json_reply(batch_json(*cancelled));
}

}  // namespace tpustack::inferd::batch_jobs
