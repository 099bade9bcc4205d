#include "inferd/slice/worker_addresses.h"

#include <charconv>

namespace tpustack::inferd::slice {

namespace {

bool is_port(std::string_view text) {
  int port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port > 0 && port < 65536;
}

Result<std::string> address_of(std::string_view entry, int own_port) {
  const std::string own = std::to_string(own_port);
  if (entry.empty()) return Error{"TPU_WORKER_HOSTNAMES has an empty entry"};
  if (entry.front() == '[') {  // [v6] or [v6]:port
    const size_t close = entry.find(']');
    if (close == std::string_view::npos) return Error{"TPU_WORKER_HOSTNAMES entry \"" + std::string(entry) + "\""};
    if (close + 1 == entry.size()) return std::string(entry) + ":" + own;
    if (entry[close + 1] == ':' && is_port(entry.substr(close + 2))) return std::string(entry);
    return Error{"TPU_WORKER_HOSTNAMES entry \"" + std::string(entry) + "\" has no valid port"};
  }
  const size_t colon = entry.find(':');
  if (colon == std::string_view::npos) return std::string(entry) + ":" + own;
  if (entry.find(':', colon + 1) != std::string_view::npos) return "[" + std::string(entry) + "]:" + own;  // bare v6
  if (colon == 0 || !is_port(entry.substr(colon + 1))) {
    return Error{"TPU_WORKER_HOSTNAMES entry \"" + std::string(entry) + "\" is not host or host:port"};
  }
  return std::string(entry);
}

}  // namespace

Result<std::vector<std::string>> worker_addresses(std::string_view hostnames, int own_port) {
  std::vector<std::string> addresses;
  size_t start = 0;
  while (start <= hostnames.size()) {
    const size_t comma = std::min(hostnames.find(',', start), hostnames.size());
    auto address = address_of(hostnames.substr(start, comma - start), own_port);
    if (!address) return address.error();
    addresses.push_back(std::move(address).value());
    start = comma + 1;
  }
  return addresses;
}

}  // namespace tpustack::inferd::slice
