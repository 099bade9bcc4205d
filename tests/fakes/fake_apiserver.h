#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_api_store.h"
#include "tests/fakes/http_wire.h"

namespace tpustack::fakes {

// A kube-apiserver stand-in speaking the REST protocol over a real TCP socket: JSON CRUD on any
// /api or /apis resource, merge and JSON patch, the status and pods/binding subresources, label and
// field selectors, paged lists, and chunked watch streams with bookmarks and 410 Gone. Objects live
// in store(), which tests seed and read directly. One thread per connection; plain HTTP only.
class FakeApiServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: an ephemeral port, see port()
    std::size_t history_limit = 1000;
    std::chrono::milliseconds bookmark_interval{1000};
  };

  // A canned answer for requests whose method and path match: after `latency`, either the reply
  // (status != 0) or, with status 0, the normal handling. Applies `times` times (-1: until cleared).
  struct Fault {
    std::string method;       // "" matches any
    std::string path_prefix;  // matched against the path without the query
    int status = 0;
    std::string body;  // "" : a Status object for `status`
    std::string content_type = "application/json";
    std::chrono::milliseconds latency{0};
    int times = -1;
  };

  struct RecordedRequest {
    std::string method;
    std::string target;
    std::string authorization;
    std::string content_type;
  };

  FakeApiServer();
  explicit FakeApiServer(Options options);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  // Throws std::runtime_error when the address cannot be bound.
  void start();
  // Closes every connection, watches included, and joins all threads.
  void stop();

  std::uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT"

  FakeApiStore& store() { return store_; }

  // Cuts every open watch stream mid-flight, as a restarting API server or a broken proxy would.
  void drop_watches();
  // Forgets the change history, so the next watch from an earlier version gets 410 Gone.
  void compact() { store_.compact(); }
  void inject(Fault fault);
  void clear_faults();
  // Where a webhook's clientConfig.service ("namespace/name:port") is reached: "127.0.0.1:PORT".
  void route_service(const std::string& service, const std::string& address);

  std::vector<RecordedRequest> requests() const;
  std::size_t request_count(const std::string& method, const std::string& path_prefix) const;
  void clear_requests();
  // Watch streams open now.
  int open_watches() const { return open_watches_.load(); }

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
  };

  void accept_loop();
  void serve(Connection& connection);
  // Returns false when the connection must close.
  bool handle(int fd, const HttpRequest& request);
  // Sleeps an injected fault's latency and answers its status: nothing when no fault with a status matches,
  // else whether the answer was sent.
  std::optional<bool> answer_fault(int fd, const HttpRequest& request, const std::string& path);
  Reply dispatch(const HttpRequest& request, const ApiPath& path);
  Reply control(const std::string& path);
  bool serve_watch(int fd, const ApiPath& path);
  void close_connection(Connection& connection);

  Options options_;
  FakeApiStore store_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> drop_generation_{0};
  std::atomic<int> open_watches_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::list<Connection> connections_;
  std::vector<Fault> faults_;
  std::map<std::string, std::string> services_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace tpustack::fakes
