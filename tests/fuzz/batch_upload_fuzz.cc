// libFuzzer target: arbitrary bytes as an upload to POST /v1/files and the batch input file inside it, read as inferd
// reads them: the first line is the request's Content-Type, the rest its multipart/form-data body; each file part is
// then read as a batch's JSONL input (read_input_file). An Error or a list of line errors is the documented answer to
// bad bytes; anything else is a finding, and so is a part outside the body or a batch with a custom_id twice.
//   scripts/fuzz.sh batch_upload_fuzzer 300
//   batch_upload_fuzz_replay tests/fuzz/corpus/batch_upload
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "inferd/batch_jobs/batch_input.h"
#include "inferd/batch_jobs/multipart_form.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack::inferd::batch_jobs;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view body = input.substr(newline + 1);
  auto boundary = form_boundary(input.substr(0, newline));
  if (!boundary) return 0;
  auto parts = parse_form(body, *boundary);
  if (!parts) return 0;
  for (const FormPart& part : *parts) {
    if (part.data.data() < body.data() || part.data.data() + part.data.size() > body.data() + body.size()) {
      std::abort();
    }
    if (!part.has_filename) continue;
    auto read = read_input_file(part.data, "/v1/embeddings");
    if (read) {
      std::set<std::string> seen;
      for (const InputLine& line : *read) {
        if (!seen.insert(line.custom_id).second) std::abort();
      }
    }
  }
  return 0;
}
