#include "inferd/server/version_follower.h"

#include <spdlog/spdlog.h>

#include <set>

#include "common/files/file_text.h"

namespace tpustack::inferd::server {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kPointerFile = "models.json";

// How often a version that still answers requests is checked for being done.
constexpr std::chrono::milliseconds kDrainCheck{50};

fs::path pointer_target(const fs::path& models_dir, const ModelPointer& pointer) {
  const fs::path path = pointer.path;
  return path.is_absolute() ? path : models_dir / path;
}

}  // namespace

ModelVersionFollower::ModelVersionFollower(FollowOptions options, ServerMetrics& metrics)
    : options_(std::move(options)), metrics_(metrics) {}

ModelVersionFollower::~ModelVersionFollower() { stop(); }

void ModelVersionFollower::read_pointers() {
  if (options_.models_dir.empty()) return;
  const fs::path file = options_.models_dir / kPointerFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    pointers_.clear();  // removed: every name is its directory again
    return;
  }
  auto text = tpustack::files::read_file_text(file, "model pointers");
  auto parsed = text ? parse_model_pointers(*text, file.string()) : Result<ModelPointers>(text.error());
  if (!parsed) {
    // A writer between truncating and finishing it, or a mistake: the last good one stands until it is fixed.
    spdlog::warn("{}; keeping the models.json read before", parsed.error().message);
    return;
  }
  pointers_ = std::move(parsed).value();
}

void ModelVersionFollower::digest(CatalogEntry& entry) {
  auto computed = digests_.digest(entry.directory);
  if (!computed) spdlog::warn("no digest for {}: {}", entry.directory.string(), computed.error().message);
  entry.digest = computed ? *computed : "";
}

Result<VersionPlan> ModelVersionFollower::scan(const ModelCatalog& serving) {
  read_pointers();
  auto found = discover_model_directories(options_.models_dir, options_.named);
  if (!found) return found.error();
  for (auto& [name, entry] : *found) digest(entry);
  std::map<std::string, PointedVersion> pointed;
  for (const auto& [name, pointer] : pointers_) {
    PointedVersion version{pointer, catalog_entry(pointer_target(options_.models_dir, pointer))};
    if (version.found) digest(*version.found);
    pointed[name] = std::move(version);
  }
  return plan_versions(serving, *found, pointed);
}

Result<ModelCatalog> ModelVersionFollower::initial_catalog() {
  auto plan = scan({});
  if (!plan) return plan.error();
  for (const auto& [name, why] : plan->refused) spdlog::error("model {} is not served: {}", name, why);
  if (plan->catalog.empty()) return Error{"no models to serve: give --models-dir DIR or --model NAME=DIR"};
  return std::move(plan->catalog);
}

Result<void> ModelVersionFollower::start(ModelPool& pool) {
  auto events = DirectoryEvents::open();
  if (!events) return events.error();
  events_ = std::move(*events);
  for (const auto& [name, entry] : *pool.catalog()) metrics_.model_version.labels({name, entry.digest}).set(1);
  watch_directories(*pool.catalog());
  thread_ = std::thread([this, &pool] { run(pool); });
  return {};
}

void ModelVersionFollower::stop() {
  if (events_) events_->stop();
  if (thread_.joinable()) thread_.join();
}

void ModelVersionFollower::watch_directories(const ModelCatalog& serving) {
  // Where a version appears, is replaced or goes: the models directory (models.json too) and its owner
  // directories, and the directory that holds each served version or pointer target.
  std::set<fs::path> directories;
  std::error_code ec;
  if (!options_.models_dir.empty()) {
    directories.insert(options_.models_dir);
    for (const auto& entry : fs::directory_iterator(options_.models_dir, ec)) {
      if (entry.is_directory(ec) && !entry.path().filename().string().starts_with(".")) {
        directories.insert(entry.path());
      }
    }
  }
  for (const auto& [name, entry] : serving) directories.insert(entry.directory.parent_path());
  for (const auto& [name, pointer] : pointers_) {
    directories.insert(pointer_target(options_.models_dir, pointer).parent_path());
  }
  for (const fs::path& directory : directories) {
    if (directory.empty() || !fs::is_directory(directory, ec)) continue;  // a pointer's, not there yet
    if (auto watched = events_->watch(directory); !watched) {
      spdlog::warn("{}; changes there are seen by the rescan every {}s", watched.error().message,
                   std::chrono::duration_cast<std::chrono::seconds>(options_.rescan).count());
    }
  }
}

void ModelVersionFollower::apply(ModelPool& pool) {
  const auto serving = pool.catalog();
  auto plan = scan(*serving);
  if (!plan) {
    spdlog::warn("models rescan failed, serving what was served: {}", plan.error().message);
    return;
  }
  for (const auto& [name, why] : plan->refused) {
    auto served = serving->find(name);
    if (served == serving->end() || served->second.refusal != why) {
      spdlog::warn("model {}: {}; {}", name, why,
                   served == serving->end() ? "not served" : "still serving " + served->second.digest);
    }
  }
  if (plan->catalog.empty()) {
    // Requests would have nothing to go to: better the last models than none.
    spdlog::warn("no model is left to serve; still serving the ones loaded before");
    return;
  }
  const auto failed = pool.update(plan->catalog);
  for (const std::string& name : plan->added) {
    spdlog::info("model {} added ({})", name, plan->catalog.at(name).digest);
    metrics_.model_version.labels({name, plan->catalog.at(name).digest}).set(1);
  }
  for (const std::string& name : plan->replaced) {
    if (failed.contains(name)) continue;
    const std::string& before = serving->at(name).digest;
    const std::string& now = plan->catalog.at(name).digest;
    spdlog::info("model {} switched from {} to {}", name, before, now);
    metrics_.model_version.labels({name, before}).set(0);
    metrics_.model_version.labels({name, now}).set(1);
    metrics_.model_switches.labels({name}).inc();
  }
  for (const std::string& name : plan->removed) {
    spdlog::info("model {} removed ({}); its requests in flight finish", name, serving->at(name).digest);
    metrics_.model_version.labels({name, serving->at(name).digest}).set(0);
  }
  watch_directories(*pool.catalog());
}

bool ModelVersionFollower::settle() {
  // A steady stream of events (a slow copy) is rescanned at this bound anyway; the next events rescan again.
  const auto give_up = Clock::now() + 10 * options_.settle;
  for (;;) {
    const auto outcome = events_->wait(options_.settle);
    if (outcome == DirectoryEvents::Outcome::stopped) return false;
    if (outcome == DirectoryEvents::Outcome::timed_out || Clock::now() >= give_up) return true;
  }
}

void ModelVersionFollower::run(ModelPool& pool) {
  auto next_rescan = Clock::now() + options_.rescan;
  for (;;) {
    const size_t draining = pool.release_drained();
    const auto until_rescan =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(next_rescan - Clock::now()),
                 std::chrono::milliseconds(0));
    const auto outcome = events_->wait(draining ? std::min(kDrainCheck, until_rescan) : until_rescan);
    if (outcome == DirectoryEvents::Outcome::stopped) return;
    if (outcome == DirectoryEvents::Outcome::timed_out && Clock::now() < next_rescan) continue;
    if (outcome == DirectoryEvents::Outcome::changed && !settle()) return;
    try {
      apply(pool);
    } catch (const std::exception& e) {
      spdlog::error("models rescan failed: {}", e.what());
    }
    next_rescan = Clock::now() + options_.rescan;
  }
}

}  // namespace tpustack::inferd::server
