#pragma once

#include "common/result/result.h"
#include "inferd/generation/decode_step.h"
#include "inferd/model/decoder_config.h"

namespace tpustack::inferd::decoder {

// Whether every chunk of `step` fits a model of `config` over a paged cache of `cache`: tokens, an end within the
// model's positions, enough blocks and none past the cache. The Error names the chunk. What every backend checks
// before computing anything, so that a bad step changes no cache.
Result<void> step_fits(const generation::DecodeStep& step, const model::DecoderConfig& config,
                       generation::KvCacheShape cache);

}  // namespace tpustack::inferd::decoder
