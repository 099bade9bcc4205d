#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace tpustack::http::detail {

// The bytes of one streamed answer on their way from its producer, a worker thread, to its connection's writer on
// the I/O threads. The producer waits while the bytes not yet sent would pass `limit`, so a client that reads slowly
// costs bounded memory; the writer takes everything queued at once and reports what the socket accepted.
// Thread-safe.
class StreamChannel {
 public:
  // `wake` asks the writer to take again: called, outside the lock, when bytes or the end arrive (or the channel
  // fails) while the writer is idle. The writer starts busy, with `head` (the answer's headers) queued.
  StreamChannel(std::string head, std::size_t limit, std::function<void()> wake);

  // Producer side. Queues `bytes` once they fit within the limit (or nothing waits); false, queuing nothing, once
  // the channel has failed.
  bool put(std::string bytes);
  // Nothing follows `last` (the closing chunk, or ""); `keep_alive`: the connection may carry another answer.
  void finish(std::string last, bool keep_alive);

  // Writer side. Everything queued, moved out; `end`: nothing follows it. Empty bytes and no end: the writer is
  // idle until woken.
  struct Taken {
    std::string bytes;
    bool end = false;
    bool keep_alive = false;  // with `end`: as finished
  };
  Taken take();
  // `count` of the bytes taken have been sent: room for the producer.
  void sent(std::size_t count);

  // Nothing more can reach the client (it went away, a write made no progress, the server stops, the producer
  // failed): puts fail from now on and a waiting one returns.
  void fail();
  bool failed() const;

 private:
  void wake_if_idle(std::unique_lock<std::mutex>& lock);

  const std::size_t limit_;
  const std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable room_;
  std::string queued_;
  std::size_t unsent_ = 0;  // queued plus taken and not yet sent
  bool finished_ = false;
  bool keep_alive_ = false;
  bool failed_ = false;
  bool writer_idle_ = false;
};

}  // namespace tpustack::http::detail
