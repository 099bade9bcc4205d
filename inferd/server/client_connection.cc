#include "inferd/server/client_connection.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <array>
#include <string>

namespace {

thread_local int last_peer_fd = -1;

using GetPeerName = int (*)(int, sockaddr*, socklen_t*);

GetPeerName next_getpeername() {
  static const auto next = reinterpret_cast<GetPeerName>(dlsym(RTLD_NEXT, "getpeername"));
  return next;
}

}  // namespace

// Interposes the C library's getpeername for the whole process (the executable's definition comes first in
// symbol lookup); it only records the descriptor and forwards.
extern "C" int getpeername(int fd, sockaddr* __restrict address, socklen_t* __restrict length) noexcept {
  last_peer_fd = fd;
  return next_getpeername()(fd, address, length);
}

namespace inferd::server {
namespace {

// The numeric address of the socket's peer, as boost::asio prints it for remote_address(); "" on failure.
std::string peer_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (next_getpeername()(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return "";
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* raw = nullptr;
  if (storage.ss_family == AF_INET) {
    raw = &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr;
  } else if (storage.ss_family == AF_INET6) {
    raw = &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
  } else {
    return "";
  }
  return inet_ntop(storage.ss_family, raw, text.data(), text.size()) ? std::string(text.data()) : "";
}

std::optional<ino_t> socket_inode(int fd) {
  struct stat status {};
  if (fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) return std::nullopt;
  return status.st_ino;
}

}  // namespace

std::optional<ClientConnection> ClientConnection::current(std::string_view remote_address) {
  const int fd = last_peer_fd;
  if (fd < 0 || remote_address.empty() || peer_address(fd) != remote_address) return std::nullopt;
  const auto inode = socket_inode(fd);
  if (!inode) return std::nullopt;
  return ClientConnection(fd, *inode);
}

bool ClientConnection::closed() const {
  if (socket_inode(fd_) != inode_) return false;
  pollfd probe{fd_, POLLRDHUP, 0};
  if (poll(&probe, 1, 0) != 1) return false;
  return (probe.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace inferd::server
