#include "tests/fakes/fake_api_store.h"

#include <ctime>

namespace tpustack::fakes {
namespace {

using nlohmann::json;

std::string now_rfc3339() {
  std::time_t seconds = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string object_name(const json& object) {
  const auto metadata = object.find("metadata");
  return metadata != object.end() && metadata->is_object() ? metadata->value("name", "") : "";
}

std::string display(const GroupResource& resource) {
  return resource.group.empty() ? resource.resource : resource.resource + "." + resource.group;
}

ApiFailure not_found(const GroupResource& resource, const std::string& name) {
  return ApiFailure(404, "NotFound", display(resource) + " \"" + name + "\" not found");
}

}  // namespace

ApiFailure::ApiFailure(int code, std::string reason, const std::string& message)
    : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}

json ApiFailure::status() const { return status_object(code_, reason_, what()); }

json status_object(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

FakeApiStore::FakeApiStore(std::size_t history_limit) : history_limit_(std::max<std::size_t>(1, history_limit)) {}

json& FakeApiStore::stored(const GroupResource& resource, const std::string& ns, const std::string& name) {
  auto& objects = objects_[resource];
  auto it = objects.find({ns, name});
  if (it == objects.end()) throw not_found(resource, name);
  return it->second;
}

json FakeApiStore::commit(const GroupResource& resource, const std::string& ns, const std::string& type, json object) {
  object["metadata"]["resourceVersion"] = std::to_string(++resource_version_);
  const std::string name = object_name(object);
  json previous;
  if (type == "MODIFIED") previous = objects_[resource][{ns, name}];
  if (type == "DELETED") {
    objects_[resource].erase({ns, name});
  } else {
    objects_[resource][{ns, name}] = object;
  }
  history_.push_back({resource_version_, resource, ns, type, object, std::move(previous)});
  while (history_.size() > history_limit_) {
    compacted_ = history_.front().resource_version;
    history_.pop_front();
  }
  changed_.notify_all();
  return object;
}

json FakeApiStore::create(const GroupResource& resource, const std::string& ns, json object) {
  std::lock_guard lock(mu_);
  if (!object.is_object()) throw ApiFailure(400, "BadRequest", "the body is not a JSON object");
  json& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  std::string object_ns = ns.empty() ? metadata.value("namespace", "") : ns;
  if (!ns.empty() && metadata.contains("namespace") && metadata["namespace"] != ns) {
    throw ApiFailure(400, "BadRequest", "the namespace of the object does not match the namespace of the request");
  }
  std::string name = metadata.value("name", "");
  if (name.empty()) {
    std::string prefix = metadata.value("generateName", "");
    if (prefix.empty()) throw ApiFailure(422, "Invalid", display(resource) + ": metadata.name: Required value");
    name = prefix + std::to_string(resource_version_ + 1);
    metadata["name"] = name;
  }
  if (objects_[resource].contains({object_ns, name})) {
    throw ApiFailure(409, "AlreadyExists", display(resource) + " \"" + name + "\" already exists");
  }
  if (object_ns.empty()) {
    metadata.erase("namespace");
  } else {
    metadata["namespace"] = object_ns;
  }
  metadata["uid"] = "fake-uid-" + std::to_string(++uid_counter_);
  metadata["creationTimestamp"] = now_rfc3339();
  metadata["generation"] = 1;
  return commit(resource, object_ns, "ADDED", std::move(object));
}

std::optional<json> FakeApiStore::find(const GroupResource& resource, const std::string& ns,
                                       const std::string& name) const {
  std::lock_guard lock(mu_);
  auto group = objects_.find(resource);
  if (group == objects_.end()) return std::nullopt;
  auto it = group->second.find({ns, name});
  if (it == group->second.end()) return std::nullopt;
  return it->second;
}

json FakeApiStore::get(const GroupResource& resource, const std::string& ns, const std::string& name) const {
  auto object = find(resource, ns, name);
  if (!object) throw not_found(resource, name);
  return *object;
}

std::vector<json> FakeApiStore::objects(const GroupResource& resource, const std::string& ns) const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  auto group = objects_.find(resource);
  if (group == objects_.end()) return out;
  for (const auto& [key, object] : group->second) {
    if (ns.empty() || key.first == ns) out.push_back(object);
  }
  return out;
}

json FakeApiStore::list(const GroupResource& resource, const std::string& ns, const ListOptions& options) const {
  LabelSelector labels;
  FieldSelector fields;
  try {
    labels = LabelSelector::parse(options.label_selector);
    fields = FieldSelector::parse(options.field_selector);
  } catch (const std::invalid_argument& e) {
    throw ApiFailure(400, "BadRequest", e.what());
  }
  std::lock_guard lock(mu_);
  json items = json::array();
  std::string continue_token;
  auto group = objects_.find(resource);
  if (group != objects_.end()) {
    // The continue token is the namespace/name key to resume after.
    auto it = group->second.begin();
    if (!options.continue_token.empty()) {
      std::size_t slash = options.continue_token.find('/');
      if (slash == std::string::npos) throw ApiFailure(400, "BadRequest", "invalid continue token");
      it = group->second.upper_bound(
          {options.continue_token.substr(0, slash), options.continue_token.substr(slash + 1)});
    }
    for (; it != group->second.end(); ++it) {
      if (!ns.empty() && it->first.first != ns) continue;
      if (!labels.matches(it->second) || !fields.matches(it->second)) continue;
      if (options.limit > 0 && items.size() == options.limit) {
        const auto& last = items.back()["metadata"];
        continue_token = last.value("namespace", "") + "/" + last.value("name", "");
        break;
      }
      items.push_back(it->second);
    }
  }
  std::string kind = items.empty() ? "" : items[0].value("kind", "");
  json list = {{"kind", kind.empty() ? "List" : kind + "List"},
               {"apiVersion", items.empty() ? "v1" : items[0].value("apiVersion", "v1")},
               {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}},
               {"items", std::move(items)}};
  if (!continue_token.empty()) list["metadata"]["continue"] = continue_token;
  return list;
}

json FakeApiStore::write_update(const GroupResource& resource, const std::string& ns, const std::string& name,
                                json updated, bool status_only) {
  const json& current = stored(resource, ns, name);
  json result = current;
  if (status_only) {
    if (updated.contains("status")) result["status"] = updated["status"];
  } else {
    json metadata = updated.value("metadata", json::object());
    for (const char* fixed : {"name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"}) {
      if (current["metadata"].contains(fixed)) metadata[fixed] = current["metadata"][fixed];
    }
    result = std::move(updated);
    result["metadata"] = std::move(metadata);
    if (current.contains("status")) {
      result["status"] = current["status"];
    } else {
      result.erase("status");
    }
    if (result.value("spec", json()) != current.value("spec", json())) {
      result["metadata"]["generation"] = current["metadata"].value("generation", 1) + 1;
    }
  }
  // A write that changes nothing keeps the version, as the API server does.
  if (result == current) return current;
  return commit(resource, ns, "MODIFIED", std::move(result));
}

json FakeApiStore::replace(const GroupResource& resource, const std::string& ns, const std::string& name, json object,
                           bool status_only) {
  std::lock_guard lock(mu_);
  const json& current = stored(resource, ns, name);
  if (!object.is_object()) throw ApiFailure(400, "BadRequest", "the body is not a JSON object");
  std::string wanted = object.value("metadata", json::object()).value("resourceVersion", "");
  if (!wanted.empty() && wanted != current["metadata"].value("resourceVersion", "")) {
    throw ApiFailure(409, "Conflict",
                     "Operation cannot be fulfilled on " + display(resource) + " \"" + name +
                         "\": the object has been modified; please apply your changes to the latest version and "
                         "try again");
  }
  return write_update(resource, ns, name, std::move(object), status_only);
}

json FakeApiStore::patch(const GroupResource& resource, const std::string& ns, const std::string& name,
                         const json& patch, PatchKind kind, bool status_only) {
  std::lock_guard lock(mu_);
  json patched = stored(resource, ns, name);
  try {
    if (kind == PatchKind::kMerge) {
      if (!patch.is_object()) throw ApiFailure(400, "BadRequest", "a merge patch must be a JSON object");
      patched.merge_patch(patch);
    } else {
      patched = patched.patch(patch);
    }
  } catch (const json::exception& e) {
    throw ApiFailure(422, "Invalid", std::string("the patch cannot be applied: ") + e.what());
  }
  if (!patched.is_object()) throw ApiFailure(422, "Invalid", "the patch did not leave an object");
  return write_update(resource, ns, name, std::move(patched), status_only);
}

json FakeApiStore::remove(const GroupResource& resource, const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  json object = stored(resource, ns, name);
  return commit(resource, ns, "DELETED", std::move(object));
}

json FakeApiStore::bind(const std::string& ns, const std::string& pod, const std::string& node) {
  std::lock_guard lock(mu_);
  const GroupResource pods{"", "pods"};
  json object = stored(pods, ns, pod);
  std::string bound = object.value("spec", json::object()).value("nodeName", "");
  if (!bound.empty()) {
    throw ApiFailure(409, "Conflict",
                     "Operation cannot be fulfilled on pods/binding \"" + pod + "\": pod " + pod +
                         " is already assigned to node \"" + bound + "\"");
  }
  if (node.empty()) throw ApiFailure(422, "Invalid", "binding: target.name: Required value");
  object["spec"]["nodeName"] = node;
  json& conditions = object["status"]["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  conditions.push_back({{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", now_rfc3339()}});
  commit(pods, ns, "MODIFIED", std::move(object));
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"}, {"code", 201}};
}

std::uint64_t FakeApiStore::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

void FakeApiStore::compact() {
  std::lock_guard lock(mu_);
  history_.clear();
  compacted_ = resource_version_;
}

FakeApiStore::Changes FakeApiStore::changes_after(std::uint64_t after) const {
  std::lock_guard lock(mu_);
  Changes changes;
  changes.resource_version = resource_version_;
  if (after < compacted_) {
    changes.gone = true;
    return changes;
  }
  for (auto it = history_.rbegin(); it != history_.rend() && it->resource_version > after; ++it) {
    changes.events.push_back(*it);
  }
  std::reverse(changes.events.begin(), changes.events.end());
  return changes;
}

bool FakeApiStore::wait_for_change(std::uint64_t after, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  const std::uint64_t wakeups = wakeups_;
  changed_.wait_until(lock, deadline, [&] { return resource_version_ > after || wakeups_ != wakeups; });
  return resource_version_ > after;
}

void FakeApiStore::wake_all() const {
  std::lock_guard lock(mu_);
  ++wakeups_;
  changed_.notify_all();
}

}  // namespace tpustack::fakes
