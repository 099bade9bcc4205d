#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kube/watch_event.h"

namespace tpustack::kube {

// What a list or a watch event did to the cache, for add/update/delete handlers.
struct CacheChange {
  enum class Kind { kAdded, kUpdated, kDeleted };
  Kind kind;
  nlohmann::json old_object;  // kUpdated and kDeleted: the cached object before the change
  nlohmann::json object;      // kAdded and kUpdated: the new object; kDeleted: its last state
};

// The objects of one resource by namespace and name, as an informer keeps them. Writes come from the
// informer's thread; reads from any thread.
class ObjectCache {
 public:
  // Replaces everything with a fresh list and returns the difference to the old contents: objects
  // new to the cache, objects whose resourceVersion changed, and objects gone while no watch was open.
  std::vector<CacheChange> replace(const std::vector<nlohmann::json>& items);
  // Applies ADDED, MODIFIED or DELETED; nothing for BOOKMARK, ERROR, or a delete of an unknown object.
  std::optional<CacheChange> apply(const WatchEvent& event);

  std::optional<nlohmann::json> get(const std::string& ns, const std::string& name) const;
  // Sorted by namespace and name; an empty `ns` means all.
  std::vector<nlohmann::json> list(const std::string& ns = "") const;
  std::size_t size() const;

 private:
  using Key = std::pair<std::string, std::string>;
  static Key key_of(const nlohmann::json& object);

  mutable std::shared_mutex mu_;
  std::map<Key, nlohmann::json> objects_;
};

}  // namespace tpustack::kube
