#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/result/result.h"
#include "inferd/batching/ticket.h"

// What is done to pooled embeddings before they go back: Matryoshka truncation, L2 normalisation, similarity.
namespace tpustack::inferd::server {

// `dimensions` (OpenAI's and TEI's field) against the model's width: at least 1, at most the width.
Result<void> check_dimensions(std::optional<size_t> dimensions, size_t width);
// Keeps the first `dimensions` values of each row (Matryoshka); renormalise afterwards if the rows must be unit.
void keep_dimensions(batching::Rows& rows, size_t dimensions);
void l2_normalize(batching::Rows& rows);
// Cosine similarity of row 0 with each later row, in row order (TEI's /similarity).
std::vector<float> similarities_to_first(const batching::Rows& rows);

}  // namespace tpustack::inferd::server
