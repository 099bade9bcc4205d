// libFuzzer target: arbitrary bytes as the body of a Kubernetes watch, taken as the kube client and an informer
// take it: split into lines as they arrive (the first byte sets the size of each read), each line read by
// parse_watch_event, each event applied to an ObjectCache with its resourceVersion and error code read. A line
// refused with an Error is the documented answer to a bad line; an exception is a finding.
//   scripts/fuzz.sh watch_event_fuzzer 300
//   watch_event_fuzz_replay tests/fuzz/corpus/watch_event
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/kube/object_cache.h"
#include "common/kube/watch_event.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack::kube;
  if (size == 0) return 0;
  const std::size_t read_size = data[0] + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  LineSplitter lines;
  ObjectCache cache;
  for (std::size_t at = 0; at < stream.size(); at += read_size) {
    for (const std::string& line : lines.feed(stream.substr(at, std::min(read_size, stream.size() - at)))) {
      auto parsed = parse_watch_event(line);
      if (!parsed) continue;
      WatchEvent& event = *parsed;
      if (event.type == WatchEventType::kError) {
        event.error_code();
        continue;
      }
      cache.apply(event);
      event.resource_version();
    }
  }
  return 0;
}
