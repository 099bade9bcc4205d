#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inferd/server/model_catalog.h"
#include "inferd/server/model_pointers.h"

namespace tpustack::inferd::server {

// A models.json entry and the model directory found at its path now (none when there is none).
struct PointedVersion {
  ModelPointer pointer;
  std::optional<CatalogEntry> found;  // with its digest
};

// What a rescan of the models directory changes.
struct VersionPlan {
  ModelCatalog catalog;  // what to serve from now on
  std::vector<std::string> added;
  std::vector<std::string> replaced;  // served before, with another digest now
  std::vector<std::string> removed;
  std::map<std::string, std::string> refused;  // name -> why models.json's version of it is not served (also the
                                               // served entry's refusal)
};

// Decides what to serve after a rescan. `serving` is what is served now; `found` the model directories on disk,
// each with its digest ("" when it could not be read: the served version of that name stays); `pointed` models.json's
// entries, which win over a directory of the same name. A pointer whose directory is missing or holds another digest
// than it names is refused: the name keeps the version it has, if any. A name keeps its --served-model-name alias.
VersionPlan plan_versions(const ModelCatalog& serving, const ModelCatalog& found,
                          const std::map<std::string, PointedVersion>& pointed);

}  // namespace tpustack::inferd::server
