#include "inferd/batch_jobs/batch_lifecycle.h"

#include <array>
#include <stdexcept>
#include <utility>

namespace tpustack::inferd::batch_jobs {

namespace {

using nlohmann::json;

constexpr std::array<std::pair<BatchStatus, std::string_view>, 8> names = {{
    {BatchStatus::validating, "validating"},
    {BatchStatus::failed, "failed"},
    {BatchStatus::in_progress, "in_progress"},
    {BatchStatus::finalizing, "finalizing"},
    {BatchStatus::completed, "completed"},
    {BatchStatus::expired, "expired"},
    {BatchStatus::cancelling, "cancelling"},
    {BatchStatus::cancelled, "cancelled"},
}};

json optional_json(const std::optional<UnixSeconds>& value) { return value ? json(*value) : json(nullptr); }
json optional_json(const std::optional<std::string>& value) { return value ? json(*value) : json(nullptr); }

template <class T>
std::optional<T> optional_from(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::nullopt;
  return found->get<T>();
}

void require(const Batch& batch, std::initializer_list<BatchStatus> from, std::string_view transition) {
  for (BatchStatus status : from) {
    if (batch.status == status) return;
  }
  throw std::logic_error("batch " + batch.id + ": " + std::string(transition) + " from " +
                         std::string(status_name(batch.status)));
}

}  // namespace

std::string_view status_name(BatchStatus status) {
  for (const auto& [value, name] : names) {
    if (value == status) return name;
  }
  throw std::logic_error("unknown batch status");
}

std::optional<BatchStatus> parse_status(std::string_view name) {
  for (const auto& [value, known] : names) {
    if (known == name) return value;
  }
  return std::nullopt;
}

bool is_terminal(BatchStatus status) {
  return status == BatchStatus::failed || status == BatchStatus::completed || status == BatchStatus::expired ||
         status == BatchStatus::cancelled;
}

json batch_json(const Batch& batch) {
  json errors = nullptr;
  if (!batch.errors.empty()) {
    json data = json::array();
    for (const BatchError& error : batch.errors) {
      data.push_back({{"code", error.code},
                      {"message", error.message},
                      {"line", error.line ? json(*error.line) : json(nullptr)},
                      {"param", error.param.empty() ? json(nullptr) : json(error.param)}});
    }
    errors = {{"object", "list"}, {"data", std::move(data)}};
  }
  return {
      {"id", batch.id},
      {"object", "batch"},
      {"endpoint", batch.endpoint},
      {"errors", std::move(errors)},
      {"input_file_id", batch.input_file_id},
      {"completion_window", batch.completion_window},
      {"status", status_name(batch.status)},
      {"output_file_id", optional_json(batch.output_file_id)},
      {"error_file_id", optional_json(batch.error_file_id)},
      {"created_at", batch.created_at},
      {"in_progress_at", optional_json(batch.in_progress_at)},
      {"expires_at", optional_json(batch.expires_at)},
      {"finalizing_at", optional_json(batch.finalizing_at)},
      {"completed_at", optional_json(batch.completed_at)},
      {"failed_at", optional_json(batch.failed_at)},
      {"expired_at", optional_json(batch.expired_at)},
      {"cancelling_at", optional_json(batch.cancelling_at)},
      {"cancelled_at", optional_json(batch.cancelled_at)},
      {"request_counts",
       {{"total", batch.request_counts.total},
        {"completed", batch.request_counts.completed},
        {"failed", batch.request_counts.failed}}},
      {"metadata", batch.metadata},
  };
}

Result<Batch> batch_from_json(const json& object) {
  try {
    Batch batch;
    batch.id = object.at("id").get<std::string>();
    batch.endpoint = object.at("endpoint").get<std::string>();
    batch.input_file_id = object.at("input_file_id").get<std::string>();
    batch.completion_window = object.at("completion_window").get<std::string>();
    const auto status = parse_status(object.at("status").get<std::string>());
    if (!status) return Error{"batch " + batch.id + " has an unknown status"};
    batch.status = *status;
    batch.output_file_id = optional_from<std::string>(object, "output_file_id");
    batch.error_file_id = optional_from<std::string>(object, "error_file_id");
    batch.created_at = object.at("created_at").get<UnixSeconds>();
    batch.in_progress_at = optional_from<UnixSeconds>(object, "in_progress_at");
    batch.expires_at = optional_from<UnixSeconds>(object, "expires_at");
    batch.finalizing_at = optional_from<UnixSeconds>(object, "finalizing_at");
    batch.completed_at = optional_from<UnixSeconds>(object, "completed_at");
    batch.failed_at = optional_from<UnixSeconds>(object, "failed_at");
    batch.expired_at = optional_from<UnixSeconds>(object, "expired_at");
    batch.cancelling_at = optional_from<UnixSeconds>(object, "cancelling_at");
    batch.cancelled_at = optional_from<UnixSeconds>(object, "cancelled_at");
    const json& counts = object.at("request_counts");
    batch.request_counts = {counts.at("total").get<int64_t>(), counts.at("completed").get<int64_t>(),
                            counts.at("failed").get<int64_t>()};
    if (const json& errors = object.at("errors"); !errors.is_null()) {
      for (const json& error : errors.at("data")) {
        batch.errors.push_back({error.at("code").get<std::string>(), error.at("message").get<std::string>(),
                                optional_from<int64_t>(error, "line"),
                                optional_from<std::string>(error, "param").value_or("")});
      }
    }
    batch.metadata = object.value("metadata", json(nullptr));
    return batch;
  } catch (const json::exception& e) {
    return Error{std::string("not a stored batch: ") + e.what()};
  }
}

std::optional<int64_t> completion_window_seconds(std::string_view window) {
  if (window == "24h") return 24 * 3600;
  return std::nullopt;
}

Batch new_batch(std::string id, std::string endpoint, std::string input_file_id, std::string completion_window,
                json metadata, UnixSeconds now) {
  Batch batch;
  batch.id = std::move(id);
  batch.endpoint = std::move(endpoint);
  batch.input_file_id = std::move(input_file_id);
  batch.created_at = now;
  batch.expires_at = now + completion_window_seconds(completion_window).value_or(0);
  batch.completion_window = std::move(completion_window);
  batch.metadata = std::move(metadata);
  return batch;
}

BatchStep next_step(const Batch& batch, int64_t lines_left, UnixSeconds now) {
  if (is_terminal(batch.status)) return BatchStep::none;
  if (batch.status == BatchStatus::cancelling) return BatchStep::cancel;
  if (batch.expires_at && now >= *batch.expires_at) return BatchStep::expire;
  if (batch.status == BatchStatus::validating) return BatchStep::validate;
  if (batch.status == BatchStatus::in_progress && lines_left > 0) return BatchStep::run;
  return BatchStep::finalize;
}

void mark_validated(Batch& batch, int64_t lines, UnixSeconds now) {
  require(batch, {BatchStatus::validating}, "validated");
  batch.status = BatchStatus::in_progress;
  batch.in_progress_at = now;
  batch.request_counts = {lines, 0, 0};
}

void mark_validation_failed(Batch& batch, std::vector<BatchError> errors, UnixSeconds now) {
  require(batch, {BatchStatus::validating}, "validation failed");
  batch.status = BatchStatus::failed;
  batch.failed_at = now;
  batch.errors = std::move(errors);
}

void mark_finalizing(Batch& batch, UnixSeconds now) {
  require(batch, {BatchStatus::in_progress}, "finalizing");
  batch.status = BatchStatus::finalizing;
  batch.finalizing_at = now;
}

void mark_finished(Batch& batch, BatchStep step, std::optional<std::string> output_file_id,
                   std::optional<std::string> error_file_id, UnixSeconds now) {
  switch (step) {
    case BatchStep::finalize:
      require(batch, {BatchStatus::finalizing}, "completed");
      batch.status = BatchStatus::completed;
      batch.completed_at = now;
      break;
    case BatchStep::cancel:
      require(batch, {BatchStatus::cancelling}, "cancelled");
      batch.status = BatchStatus::cancelled;
      batch.cancelled_at = now;
      break;
    case BatchStep::expire:
      require(batch, {BatchStatus::validating, BatchStatus::in_progress, BatchStatus::finalizing}, "expired");
      batch.status = BatchStatus::expired;
      batch.expired_at = now;
      break;
    default:
      throw std::logic_error("batch " + batch.id + ": finishing with a step that does not finish");
  }
  batch.output_file_id = std::move(output_file_id);
  batch.error_file_id = std::move(error_file_id);
}

Result<void> request_cancel(Batch& batch, UnixSeconds now) {
  switch (batch.status) {
    case BatchStatus::validating:
    case BatchStatus::in_progress:
    case BatchStatus::finalizing:
      batch.status = BatchStatus::cancelling;
      batch.cancelling_at = now;
      return {};
    case BatchStatus::cancelling:
    case BatchStatus::cancelled:
      return {};
    default:
      return Error{"Cannot cancel a batch with status '" + std::string(status_name(batch.status)) + "'.",
                   ErrorKind::kFailedPrecondition};
  }
}

}  // namespace tpustack::inferd::batch_jobs
