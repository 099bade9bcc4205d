#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace inferd::server {

// Whether the client of an HTTP request is still connected, so that work for a client who hung up is
// dropped instead of computed. cpprestsdk's listener gives no such signal: it reads nothing from a
// connection while the connection's request is being served, and learns of a hang-up only when the reply
// fails to go out. We ask the kernel about the request's socket instead, as nginx does.
//
// Finding that socket: just before the listener calls the handler, on the same thread, it asks the kernel
// for the peer's address (getpeername) to fill remote_address(). This file interposes getpeername to
// remember, per thread, which descriptor that was.
class ClientConnection {
 public:
  // The connection of the request this thread is dispatching: the socket the listener last asked about on
  // this thread, provided it is a TCP socket whose peer address is `remote_address`. nullopt when that
  // cannot be told, e.g. outside a listener's handler.
  static std::optional<ClientConnection> current(std::string_view remote_address);

  // True once the peer has closed or reset the connection. A descriptor that no longer names the same
  // socket answers false: its request can no longer be told from another's.
  bool closed() const;

  int fd() const { return fd_; }

 private:
  ClientConnection(int fd, ino_t inode) : fd_(fd), inode_(inode) {}

  int fd_;
  ino_t inode_;
};

}  // namespace inferd::server
