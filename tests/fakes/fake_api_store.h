#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/api_path.h"
#include "tests/fakes/label_selector.h"

namespace tpustack::fakes {

// A refused request: the HTTP status and the metav1.Status the API server would send.
class ApiFailure : public std::runtime_error {
 public:
  ApiFailure(int code, std::string reason, const std::string& message);
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  nlohmann::json status() const;

 private:
  int code_;
  std::string reason_;
};

nlohmann::json status_object(int code, const std::string& reason, const std::string& message);

enum class PatchKind { kMerge, kJson };

// One change as a watch sees it.
struct StoredEvent {
  std::uint64_t resource_version = 0;
  GroupResource resource;
  std::string ns;
  std::string type;  // ADDED, MODIFIED, DELETED
  nlohmann::json object;
  nlohmann::json previous;  // MODIFIED: the object before the change, for watches with a selector
};

// The objects of the fake API server, with the API server's semantics: one global resourceVersion
// increased by every write, a bounded history of changes for watches, status kept apart from the rest
// of the object, optimistic concurrency on replace. Thread-safe; no I/O. Every call throws ApiFailure
// where the API server would refuse.
class FakeApiStore {
 public:
  explicit FakeApiStore(std::size_t history_limit = 1000);

  // The namespace comes from `ns` (the URL), or for seeding from metadata.namespace when `ns` is empty.
  nlohmann::json create(const GroupResource& resource, const std::string& ns, nlohmann::json object);
  nlohmann::json get(const GroupResource& resource, const std::string& ns, const std::string& name) const;
  std::optional<nlohmann::json> find(const GroupResource& resource, const std::string& ns,
                                     const std::string& name) const;
  // Sorted by namespace and name; an empty `ns` means every namespace.
  std::vector<nlohmann::json> objects(const GroupResource& resource, const std::string& ns = "") const;

  struct ListOptions {
    std::string label_selector;
    std::string field_selector;
    std::size_t limit = 0;
    std::string continue_token;
  };
  // A List object: items, metadata.resourceVersion and, when a page is full, metadata.continue.
  nlohmann::json list(const GroupResource& resource, const std::string& ns, const ListOptions& options) const;

  // `status_only` is the status subresource: only .status changes; otherwise .status is kept.
  nlohmann::json replace(const GroupResource& resource, const std::string& ns, const std::string& name,
                         nlohmann::json object, bool status_only);
  nlohmann::json patch(const GroupResource& resource, const std::string& ns, const std::string& name,
                       const nlohmann::json& patch, PatchKind kind, bool status_only);
  nlohmann::json remove(const GroupResource& resource, const std::string& ns, const std::string& name);
  // pods/binding: sets spec.nodeName; 409 when the pod is already on a node.
  nlohmann::json bind(const std::string& ns, const std::string& pod, const std::string& node);

  std::uint64_t resource_version() const;
  // Forgets the history: a watch from any earlier version gets 410 Gone.
  void compact();

  struct Changes {
    bool gone = false;  // `after` is older than the history
    std::vector<StoredEvent> events;
    std::uint64_t resource_version = 0;  // the newest version seen
  };
  Changes changes_after(std::uint64_t after) const;
  // Blocks until a write after `after`, `deadline`, or wake_all(); returns whether there was a write.
  bool wait_for_change(std::uint64_t after, std::chrono::steady_clock::time_point deadline) const;
  void wake_all() const;

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  nlohmann::json& stored(const GroupResource& resource, const std::string& ns, const std::string& name);
  nlohmann::json commit(const GroupResource& resource, const std::string& ns, const std::string& type,
                        nlohmann::json object);
  nlohmann::json write_update(const GroupResource& resource, const std::string& ns, const std::string& name,
                              nlohmann::json updated, bool status_only);

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<GroupResource, std::map<Key, nlohmann::json>> objects_;
  std::deque<StoredEvent> history_;
  std::size_t history_limit_;
  std::uint64_t resource_version_ = 0;
  std::uint64_t compacted_ = 0;  // watches from a version below this get 410
  std::uint64_t uid_counter_ = 0;
  mutable std::uint64_t wakeups_ = 0;
};

}  // namespace tpustack::fakes
