#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tpustack::e2e {

// How the requests of a RequestLoad ended. A request is accepted once its connection is established and all of
// its bytes are sent; before that (connection refused, the peer gone mid-send) it is unreachable and was never
// the server's to answer. Every accepted request ends in exactly one of:
// - answered: a 2xx response whose whole body is JSON;
// - refused: an HTTP error status (4xx, 5xx), or the server closing or resetting the connection before a whole
//   response, as a killed server's kernel does: the client learns at once that it got no answer;
// - wrong: a whole 2xx response whose body is not JSON;
// - hung: no whole response within the deadline, the connection still open.
struct LoadTally {
  int unreachable = 0;
  int accepted = 0;
  int answered = 0;
  int refused_status = 0;
  int refused_closed = 0;
  int wrong = 0;
  int hung = 0;
  std::vector<std::string> failures;  // the first few wrong and hung requests, for the test's message
};

// Clients that keep sending one request to whichever servers the test names, each request on a fresh
// connection to one of them at random, a pause between requests, until destroyed.
class RequestLoad {
 public:
  RequestLoad(int clients, std::string path, std::string body, std::chrono::milliseconds deadline,
              std::chrono::milliseconds pause);
  ~RequestLoad();
  RequestLoad(const RequestLoad&) = delete;
  RequestLoad& operator=(const RequestLoad&) = delete;

  // The ports (on 127.0.0.1) requests go to from now on; none: the clients wait.
  void set_targets(std::vector<int> ports);
  // Stops the clients once their requests in flight have ended.
  void stop();
  LoadTally tally() const;

 private:
  void run(unsigned seed);
  void record(const std::string& port, int status, bool whole, bool json, bool timed_out);

  std::string path_;
  std::string body_;
  std::chrono::milliseconds deadline_;
  std::chrono::milliseconds pause_;
  mutable std::mutex mu_;
  std::vector<int> targets_;
  LoadTally tally_;
  std::atomic<bool> stopping_ = false;
  std::vector<std::thread> clients_;
};

}  // namespace tpustack::e2e
