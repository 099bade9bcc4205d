#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "inferd/batch_jobs/batch_lifecycle.h"

namespace tpustack::inferd::batch_jobs {

// A file of the Files API, without its bytes.
struct FileRecord {
  std::string id;
  std::string filename;
  std::string purpose;  // "batch" for uploads, "batch_output" for a batch's output and error files
  int64_t bytes = 0;
  UnixSeconds created_at = 0;
};

// OpenAI's File object.
inline nlohmann::json file_json(const FileRecord& file) {
  return {{"id", file.id},
          {"object", "file"},
          {"bytes", file.bytes},
          {"created_at", file.created_at},
          {"filename", file.filename},
          {"purpose", file.purpose},
          {"status", "processed"},
          {"status_details", nullptr}};
}

}  // namespace tpustack::inferd::batch_jobs
