#include "tests/support/free_port.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

namespace tpustack::testing {
namespace {

// The kernel's ephemeral range, from which every outgoing connection takes its local port.
std::pair<int, int> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  in >> low >> high;
  return {low, high};
}

bool can_listen_on(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return free;
}

}  // namespace

// Outside the ephemeral range: a port taken from it (as bind to port 0 would give) can become the local port of
// some client's connection (ours or a parallel test's) before the server binds it, which CI saw as "Address
// already in use". Random, so parallel test processes seldom pick the same port, and never twice in one process.
int free_port() {
  static std::mutex mu;
  static std::set<int> handed_out;
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  const auto [ephemeral_low, ephemeral_high] = ephemeral_range();
  // Below the range when there is room, else above it.
  const auto [low, high] = ephemeral_low - 10000 >= 1024 ? std::pair{ephemeral_low - 10000, ephemeral_low - 1}
                                                         : std::pair{ephemeral_high + 1, 65535};
  if (low > high) throw std::runtime_error("no port range outside the ephemeral ports to test servers on");
  std::uniform_int_distribution<int> pick(low, high);
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    if (!handed_out.contains(port) && can_listen_on(port)) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("found no free port in " + std::to_string(low) + "-" + std::to_string(high));
}

}  // namespace tpustack::testing
