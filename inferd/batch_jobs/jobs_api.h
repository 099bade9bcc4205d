#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/result/result.h"
#include "inferd/batch_jobs/job_store.h"

namespace tpustack::inferd::batch_jobs {

struct JobsCall {
  std::string method;  // "GET", "POST", "DELETE"
  std::string path;
  std::string query;  // without '?'
  std::string content_type;
  std::string_view body;
};

struct JobsReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// A refused call; the HTTP layer answers it in OpenAI's error object.
struct JobsError {
  int status = 400;
  std::string message;
  std::string param;  // the field at fault, "" when none
};

using JobsAnswer = Result<JobsReply, JobsError>;

// Whether `path` is one of the Files or Batch API's routes.
bool is_jobs_path(std::string_view path);
// The methods `path` answers to (an Allow header's value), "" when it is no route of these APIs.
std::string jobs_allowed_methods(std::string_view path);
// The route `path` belongs to, for metrics: "/v1/files/{id}/content", "/v1/batches/{id}/cancel", ...
std::string jobs_route_label(std::string_view path);

// OpenAI's Files API (POST /v1/files as multipart/form-data, GET /v1/files, GET and DELETE /v1/files/{id},
// GET /v1/files/{id}/content) and Batch API (POST and GET /v1/batches, GET /v1/batches/{id},
// POST /v1/batches/{id}/cancel) over the store. `wake_runner` is called when a batch is created or cancelled.
class JobsApi {
 public:
  JobsApi(JobStore& store, std::function<void()> wake_runner, size_t max_file_bytes)
      : store_(store), wake_runner_(std::move(wake_runner)), max_file_bytes_(max_file_bytes) {}

  // Never throws: a failure of the store is a 500.
  JobsAnswer handle(const JobsCall& call);

 private:
  JobsAnswer route(const JobsCall& call);
  JobsAnswer upload(const JobsCall& call);
  JobsAnswer list_files(const JobsCall& call);
  JobsAnswer create_batch(const JobsCall& call);
  JobsAnswer list_batches(const JobsCall& call);
  JobsAnswer cancel_batch(const std::string& id);

  JobStore& store_;
  std::function<void()> wake_runner_;
  size_t max_file_bytes_;
};

}  // namespace tpustack::inferd::batch_jobs
