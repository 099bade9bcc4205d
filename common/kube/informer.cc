#include "common/kube/informer.h"

#include <optional>
#include <random>

#include <spdlog/spdlog.h>

namespace tpustack::kube {

Informer::Informer(KubeClient& client, Resource resource, Options options)
    : client_(client), resource_(std::move(resource)), options_(std::move(options)), backoff_(options_.backoff) {}

Informer::~Informer() { stop(); }

void Informer::add_handlers(Handlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return synced_.load(); });
}

std::string Informer::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

void Informer::sleep(std::stop_token stop, std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, stop, delay, [] { return false; });
}

void Informer::dispatch(const CacheChange& change) {
  for (const auto& handlers : handlers_) {
    try {
      switch (change.kind) {
        case CacheChange::Kind::kAdded:
          if (handlers.on_add) handlers.on_add(change.object);
          break;
        case CacheChange::Kind::kUpdated:
          if (handlers.on_update) handlers.on_update(change.old_object, change.object);
          break;
        case CacheChange::Kind::kDeleted:
          if (handlers.on_delete) handlers.on_delete(change.object);
          break;
      }
    } catch (const std::exception& e) {
      // One failing handler must not stop the cache from following the cluster.
      spdlog::error("informer {}: handler failed: {}", resource_.plural, e.what());
    }
  }
}

Result<void> Informer::relist() {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  auto list = client_.list_all(resource_, options_.ns, list_options);
  if (!list) return list.error();
  ++lists_;
  for (const auto& change : cache_.replace(list->items)) dispatch(change);
  {
    std::lock_guard lock(mu_);
    resource_version_ = list->resource_version;
    synced_ = true;
  }
  cv_.notify_all();
  spdlog::debug("informer {}: listed {} objects at version {}", resource_.plural, list->items.size(),
                list->resource_version);
  return {};
}

Result<bool> Informer::watch_once(std::stop_token stop, bool& saw_event) {
  WatchOptions watch_options;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.resource_version = resource_version();
  watch_options.allow_bookmarks = true;
  static thread_local std::mt19937 rng{std::random_device{}()};
  const int min_timeout = static_cast<int>(options_.min_watch_timeout.count());
  watch_options.timeout_seconds = min_timeout + std::uniform_int_distribution<int>(0, min_timeout)(rng);
  ++watches_;
  bool expired = false;
  std::optional<Error> refused;  // an ERROR event other than 410 Gone
  auto watched = client_.watch(
      resource_, options_.ns, watch_options,
      [&](const WatchEvent& event) {
        if (event.type == WatchEventType::kError) {
          const int code = event.error_code();
          if (code == 410) {
            expired = true;
          } else {
            refused = api_error(code, event.object.value("reason", ""), event.object.value("message", "watch error"));
          }
          return false;
        }
        saw_event = true;
        if (auto change = cache_.apply(event)) dispatch(*change);
        if (std::string version = event.resource_version(); !version.empty()) {
          std::lock_guard lock(mu_);
          resource_version_ = version;
        }
        return true;
      },
      stop);
  if (!watched) return watched.error();
  if (refused) return *refused;
  return expired;
}

Result<bool> Informer::follow_once(std::stop_token stop, bool& need_list, bool& saw_event) {
  if (need_list) {
    if (auto listed = relist(); !listed) return listed.error();
    need_list = false;
  }
  return watch_once(stop, saw_event);
}

void Informer::run(std::stop_token stop) {
  bool need_list = true;
  while (!stop.stop_requested()) {
    bool saw_event = false;
    Result<bool> expired = Error{};
    try {
      expired = follow_once(stop, need_list, saw_event);
    } catch (const std::exception& e) {
      expired = Error{std::string("informer failed: ") + e.what()};  // this thread's boundary: retry, do not die
    }
    if (!expired) {
      if (gone(expired.error())) {
        need_list = true;
        continue;
      }
      auto delay = backoff_.next();
      spdlog::warn("informer {}: {}; retrying in {} ms", resource_.plural, expired.error().message, delay.count());
      sleep(stop, delay);
      continue;
    }
    need_list = *expired;
    if (need_list) {
      spdlog::info("informer {}: version {} is too old, listing again", resource_.plural, resource_version());
    } else if (saw_event) {
      backoff_.reset();
    } else if (!stop.stop_requested()) {
      // A watch that ends with nothing to say: do not reconnect in a tight loop.
      sleep(stop, backoff_.next());
    }
  }
}

}  // namespace tpustack::kube
