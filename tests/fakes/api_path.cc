#include "tests/fakes/api_path.h"

#include <vector>

namespace tpustack::fakes {

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::optional<ApiPath> parse_api_path(std::string_view target) {
  ApiPath path;
  std::string_view path_part = target.substr(0, target.find('?'));
  if (path_part.size() < target.size()) {
    std::string_view query = target.substr(path_part.size() + 1);
    while (!query.empty()) {
      std::string_view pair = query.substr(0, query.find('&'));
      query.remove_prefix(std::min(query.size(), pair.size() + 1));
      std::size_t eq = pair.find('=');
      path.query[url_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    }
  }
  std::vector<std::string> segments;
  for (std::size_t start = 1; start <= path_part.size();) {
    std::size_t end = path_part.find('/', start);
    if (end == std::string_view::npos) end = path_part.size();
    if (end > start) segments.push_back(url_decode(path_part.substr(start, end - start)));
    start = end + 1;
  }
  std::size_t at;
  if (segments.size() >= 2 && segments[0] == "api") {
    path.version = segments[1];
    at = 2;
  } else if (segments.size() >= 3 && segments[0] == "apis") {
    path.resource.group = segments[1];
    path.version = segments[2];
    at = 3;
  } else {
    return std::nullopt;
  }
  std::vector<std::string> rest(segments.begin() + static_cast<long>(at), segments.end());
  // "namespaces/NS/RESOURCE/..." is a namespaced resource; "namespaces" and "namespaces/NAME" are
  // the Namespace objects themselves.
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    path.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) return std::nullopt;
  path.resource.resource = rest[0];
  if (rest.size() > 1) path.name = rest[1];
  if (rest.size() > 2) path.subresource = rest[2];
  return path;
}

}  // namespace tpustack::fakes
