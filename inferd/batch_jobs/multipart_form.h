#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::batch_jobs {

// One part of a multipart/form-data body (RFC 7578): a form field, or a file when it has a filename.
struct FormPart {
  std::string name;
  std::string filename;  // "" for a plain field
  bool has_filename = false;
  std::string content_type;  // the part's own Content-Type, "" when it has none
  std::string_view data;     // a view into the body it was parsed from
};

// The boundary a multipart/form-data Content-Type names, or an Error saying why there is none.
Result<std::string> form_boundary(std::string_view content_type);

// The parts of `body` between `boundary` delimiters, each with its Content-Disposition's name and filename. A body
// that is not well formed (no closing delimiter, a part without a form-data disposition or a name, headers without
// their blank line) is an Error; the parts' data are views into `body`.
Result<std::vector<FormPart>> parse_form(std::string_view body, std::string_view boundary);

}  // namespace tpustack::inferd::batch_jobs
