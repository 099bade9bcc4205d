#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kube/kube_client.h"
#include "common/kube/object_cache.h"
#include "common/kube/resource.h"
#include "common/retry/backoff.h"

namespace tpustack::kube {

// Keeps a local copy of one resource current, as client-go's informers do: list, then watch from the
// list's resourceVersion (with bookmarks). A watch that breaks or ends is reopened from the last version
// seen; when that version is too old (410 Gone) the informer lists again and reports what changed
// meanwhile. Failures are retried with exponential backoff and jitter. Handlers run on the informer's
// thread, one at a time; cache() may be read from any thread.
class Informer {
 public:
  struct Handlers {
    std::function<void(const nlohmann::json& object)> on_add;
    std::function<void(const nlohmann::json& old_object, const nlohmann::json& object)> on_update;
    std::function<void(const nlohmann::json& last_state)> on_delete;
  };

  struct Options {
    std::string ns;  // "" : all namespaces (or a cluster-scoped resource)
    std::string label_selector;
    std::string field_selector;
    int page_size = 500;
    retry::Backoff::Policy backoff;
    // The server ends each watch after a random time in [min, 2*min), so connections are rebalanced.
    std::chrono::seconds min_watch_timeout{300};
  };

  Informer(KubeClient& client, Resource resource, Options options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before start().
  void add_handlers(Handlers handlers);
  void start();
  // Ends an open watch at once and joins the thread.
  void stop();

  // True once the first list is in the cache.
  bool has_synced() const { return synced_.load(); }
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  const ObjectCache& cache() const { return cache_; }
  std::string resource_version() const;
  int lists() const { return lists_.load(); }
  int watches() const { return watches_.load(); }

 private:
  void run(std::stop_token stop);
  Result<void> relist();
  // True when the version is too old and a list is needed.
  Result<bool> watch_once(std::stop_token stop, bool& saw_event);
  // A list when `need_list` (then cleared), and one watch: whether the next pass must list again.
  Result<bool> follow_once(std::stop_token stop, bool& need_list, bool& saw_event);
  void dispatch(const CacheChange& change);
  void sleep(std::stop_token stop, std::chrono::milliseconds delay);

  KubeClient& client_;
  Resource resource_;
  Options options_;
  std::vector<Handlers> handlers_;
  ObjectCache cache_;
  retry::Backoff backoff_;
  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  std::atomic<int> lists_{0};
  std::atomic<int> watches_{0};
  std::jthread thread_;
};

}  // namespace tpustack::kube
