#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::extender {

// Kubernetes objects from what `kubectl get -o yaml|json` prints: a `kind: List` with items, a bare
// list, one object, or several YAML documents. YAML scalars become JSON booleans and integers where
// they are written unquoted as such, strings otherwise. An Error names `source` and the line. (The core does no
// I/O: callers read the file.)
Result<std::vector<nlohmann::json>> parse_object_list(std::string_view text, const std::string& source);

}  // namespace tpustack::extender
