#pragma once

#include <optional>
#include <string>
#include <variant>

#include "inferd/server/model_catalog.h"
#include "inferd/server/model_pool.h"
#include "inferd/server/request_error.h"

namespace tpustack::inferd::server {

// What a route asks of a model. A *ForSequenceClassification model predicts; with one label it also reranks (TEI's
// reranker); a decoder (*ForCausalLM) generates text; every other model embeds.
enum class Task { embed, rerank, predict, generate };

const char* task_verb(Task task);  // "embed", "rerank", "predict", "generate text"
bool can_serve(const CatalogEntry& entry, Task task);

struct ModelChoice {
  std::string name;     // the catalog's name
  std::string warning;  // set when the asked name was not found and the only model able to serve was taken instead
};

// The model a request for `task` goes to. A name (catalog or served) picks that model; none, or one this server
// does not have, picks the only model that can serve the task when there is exactly one (TEI serves any name with
// a warning); otherwise the request is refused saying which models there are.
Result<ModelChoice, RequestError> choose_model(const ModelCatalog& catalog, const std::optional<std::string>& asked,
                                               Task task);

// The model that answers POST / (and /info's model_id) when a request names none: the only model, else the only
// embedder, else the first by name.
const std::string& primary_model(const ModelCatalog& catalog);

// POST /'s task (TEI's default route is the model's task): a rerank body ({query, texts}) reranks; otherwise the
// model named, or the primary one, embeds when it is an embedder and predicts when it is a classifier.
Task task_of_root(const ModelCatalog& catalog, const std::optional<std::string>& asked, bool rerank_body);

// The task whose model tokenizes (and decodes) for a request naming `asked`: every model tokenizes, so a named
// one serves whatever its task; unnamed, the default embedder does.
Task tokenizing_task(const ModelCatalog& catalog, const std::optional<std::string>& asked);

// TEI's model_dtype ("float32", "bfloat16", "int8") of a model: what it computes in when resident, else what
// `variant` (--variant) asks for ("auto" is decided at load, and counts as float32 until then).
std::string tei_model_dtype(const ModelPool& pool, const std::string& name, const std::string& variant);

// The catalog entry a served or catalog name names, or null.
const ModelCatalog::value_type* find_model(const ModelCatalog& catalog, const std::string& name);

}  // namespace tpustack::inferd::server
