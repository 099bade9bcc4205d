#pragma once

#include <string>

#include "common/result/result.h"

namespace tpustack::http {

struct ListenAddress {
  std::string host;  // "0.0.0.0" when the address gave none; IPv6 without brackets
  int port = 0;
};

// "0.0.0.0:2112", ":2112", "[::1]:8080"; an Error naming the address for anything else.
Result<ListenAddress> parse_listen_address(const std::string& host_port);

}  // namespace tpustack::http
