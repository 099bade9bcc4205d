#include "inferd/server/version_plan.h"

namespace tpustack::inferd::server {

namespace {

// Why `pointed` cannot be served; "" when it can.
std::string refusal(const std::string& name, const PointedVersion& pointed) {
  const std::string where = "models.json's " + name + " -> " + pointed.pointer.path;
  if (!pointed.found) return where + ": no model directory (config.json) there";
  if (pointed.found->digest.empty()) return where + ": its files cannot be read";
  if (!pointed.pointer.digest.empty() && pointed.pointer.digest != pointed.found->digest) {
    return where + " holds " + pointed.found->digest + ", not " + pointed.pointer.digest;
  }
  return "";
}

}  // namespace

VersionPlan plan_versions(const ModelCatalog& serving, const ModelCatalog& found,
                          const std::map<std::string, PointedVersion>& pointed) {
  VersionPlan plan;
  const auto keep_served = [&](const std::string& name) {
    if (auto served = serving.find(name); served != serving.end()) plan.catalog[name] = served->second;
  };
  for (const auto& [name, entry] : found) {
    if (pointed.contains(name)) continue;
    if (entry.digest.empty()) {
      keep_served(name);  // mid-rename or unreadable for a moment: no reason to drop a working version
    } else {
      plan.catalog[name] = entry;
    }
  }
  for (const auto& [name, version] : pointed) {
    if (std::string why = refusal(name, version); !why.empty()) {
      keep_served(name);
      if (auto kept = plan.catalog.find(name); kept != plan.catalog.end()) kept->second.refusal = why;
      plan.refused[name] = std::move(why);
    } else {
      plan.catalog[name] = *version.found;
    }
  }
  for (auto& [name, entry] : plan.catalog) {
    auto served = serving.find(name);
    if (served == serving.end()) {
      plan.added.push_back(name);
      continue;
    }
    entry.served_name = served->second.served_name;
    if (served->second.digest != entry.digest) plan.replaced.push_back(name);
  }
  for (const auto& [name, entry] : serving) {
    if (!plan.catalog.contains(name)) plan.removed.push_back(name);
  }
  return plan;
}

}  // namespace tpustack::inferd::server
