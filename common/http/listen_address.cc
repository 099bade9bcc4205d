#include "common/http/listen_address.h"

namespace tpustack::http {

Result<ListenAddress> parse_listen_address(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return Error{"invalid listen address '" + host_port + "' (expected HOST:PORT, e.g. 0.0.0.0:8080)"};
  }
  const std::string port = host_port.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return Error{"invalid port in listen address '" + host_port + "'"};
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  return ListenAddress{host, static_cast<int>(std::stoul(port))};
}

}  // namespace tpustack::http
