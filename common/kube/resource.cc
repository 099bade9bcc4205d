#include "common/kube/resource.h"

#include <cctype>

namespace tpustack::kube {
namespace {

void add_param(std::string& query, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  query += query.empty() ? '?' : '&';
  query += key;
  query += '=';
  query += url_encode(value);
}

}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string collection_path(const Resource& resource, std::string_view ns) {
  std::string path =
      resource.group.empty() ? "/api/" + resource.version : "/apis/" + resource.group + "/" + resource.version;
  if (resource.namespaced && !ns.empty()) path += "/namespaces/" + url_encode(ns);
  return path + "/" + resource.plural;
}

std::string object_path(const Resource& resource, std::string_view ns, std::string_view name,
                        std::string_view subresource) {
  std::string path = collection_path(resource, ns) + "/" + url_encode(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string list_query(const ListOptions& options) {
  std::string query;
  add_param(query, "labelSelector", options.label_selector);
  add_param(query, "fieldSelector", options.field_selector);
  if (options.limit > 0) add_param(query, "limit", std::to_string(options.limit));
  add_param(query, "continue", options.continue_token);
  add_param(query, "resourceVersion", options.resource_version);
  return query;
}

std::string watch_query(const WatchOptions& options) {
  std::string query = "?watch=1";
  add_param(query, "labelSelector", options.label_selector);
  add_param(query, "fieldSelector", options.field_selector);
  add_param(query, "resourceVersion", options.resource_version);
  if (options.allow_bookmarks) add_param(query, "allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0) add_param(query, "timeoutSeconds", std::to_string(options.timeout_seconds));
  return query;
}

}  // namespace tpustack::kube
