#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tpustack::fakes {

// A resource of any group, as the fake stores it; the version in the URL does not matter.
struct GroupResource {
  std::string group;     // "" for core
  std::string resource;  // "pods"

  auto operator<=>(const GroupResource&) const = default;
};

// A request target of the REST API, split into its parts:
//   /api/v1/namespaces/NS/pods/NAME/binding?watch=1 -> {"", v1, pods, NS, NAME, binding}
struct ApiPath {
  GroupResource resource;
  std::string version;
  std::string ns;  // "" for cluster-scoped resources and for lists across namespaces
  std::string name;
  std::string subresource;
  std::map<std::string, std::string> query;  // decoded

  std::string query_value(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? "" : it->second;
  }
};

std::string url_decode(std::string_view text);

// nullopt when the target is not an /api or /apis resource path.
std::optional<ApiPath> parse_api_path(std::string_view target);

}  // namespace tpustack::fakes
