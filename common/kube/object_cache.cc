#include "common/kube/object_cache.h"

#include <mutex>

namespace tpustack::kube {
namespace {

std::string version_of(const nlohmann::json& object) {
  return object.value("metadata", nlohmann::json::object()).value("resourceVersion", "");
}

}  // namespace

ObjectCache::Key ObjectCache::key_of(const nlohmann::json& object) {
  const auto metadata = object.value("metadata", nlohmann::json::object());
  return {metadata.value("namespace", ""), metadata.value("name", "")};
}

std::vector<CacheChange> ObjectCache::replace(const std::vector<nlohmann::json>& items) {
  std::map<Key, nlohmann::json> fresh;
  for (const auto& item : items) fresh.emplace(key_of(item), item);
  std::vector<CacheChange> changes;
  std::unique_lock lock(mu_);
  for (const auto& [key, object] : objects_) {
    if (!fresh.contains(key)) changes.push_back({CacheChange::Kind::kDeleted, object, object});
  }
  for (const auto& [key, object] : fresh) {
    auto old = objects_.find(key);
    if (old == objects_.end()) {
      changes.push_back({CacheChange::Kind::kAdded, nullptr, object});
    } else if (version_of(old->second) != version_of(object)) {
      changes.push_back({CacheChange::Kind::kUpdated, old->second, object});
    }
  }
  objects_ = std::move(fresh);
  return changes;
}

std::optional<CacheChange> ObjectCache::apply(const WatchEvent& event) {
  if (event.type == WatchEventType::kBookmark || event.type == WatchEventType::kError) return std::nullopt;
  const Key key = key_of(event.object);
  std::unique_lock lock(mu_);
  auto old = objects_.find(key);
  if (event.type == WatchEventType::kDeleted) {
    if (old == objects_.end()) return std::nullopt;
    CacheChange change{CacheChange::Kind::kDeleted, std::move(old->second), event.object};
    objects_.erase(old);
    return change;
  }
  if (old == objects_.end()) {
    objects_.emplace(key, event.object);
    return CacheChange{CacheChange::Kind::kAdded, nullptr, event.object};
  }
  CacheChange change{CacheChange::Kind::kUpdated, std::move(old->second), event.object};
  old->second = event.object;
  return change;
}

std::optional<nlohmann::json> ObjectCache::get(const std::string& ns, const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find({ns, name});
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> ObjectCache::list(const std::string& ns) const {
  std::shared_lock lock(mu_);
  std::vector<nlohmann::json> out;
  for (const auto& [key, object] : objects_) {
    if (ns.empty() || key.first == ns) out.push_back(object);
  }
  return out;
}

std::size_t ObjectCache::size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

}  // namespace tpustack::kube
