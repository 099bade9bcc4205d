#include "inferd/engine/pjrt/pjrt_encoder_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "inferd/engine/pjrt/encoder_buckets.h"
#include "inferd/engine/pjrt/encoder_program.h"
#include "inferd/engine/pjrt/resident_weights.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

// A compiled program: the head (its kind, pooling and normalisation) and the bucket.
struct ProgramKey {
  size_t head_kind = 0;
  model::Pooling pooling = model::Pooling::cls;
  bool normalize = false;
  EncoderBucket bucket;
  auto operator<=>(const ProgramKey&) const = default;
};

ProgramKey key_of(const EncoderHead& head, EncoderBucket bucket) {
  const auto* embedding = std::get_if<EmbeddingHead>(&head);
  return {head.index(), embedding ? embedding->pooling : model::Pooling::cls, embedding && embedding->normalize,
          bucket};
}

class PjrtEncoderBackend final : public EncoderBackend {
 public:
  PjrtEncoderBackend(std::shared_ptr<const model::BertWeights> weights, std::shared_ptr<PjrtRuntime> runtime,
                     const PjrtEncoderOptions& options, std::vector<ResidentWeights> resident,
                     size_t embedding_parameters)
      : weights_(std::move(weights)),
        runtime_(std::move(runtime)),
        options_(options),
        series_(options.max_batch, weights_->config.max_positions),
        resident_(std::move(resident)),
        embedding_parameters_(embedding_parameters) {}

  std::string_view name() const override { return "pjrt"; }

  std::string kernel() const override {
    return "pjrt " + runtime_->client().platform_name() + " " + std::to_string(runtime_->devices().size()) + " x " +
           runtime_->device_kind() + (options_.precision == WeightPrecision::bf16 ? " bf16" : " f32");
  }

  Result<std::vector<float>> embed(const TokenBatch& batch, model::Pooling pooling, bool normalize) override {
    return run(batch, EmbeddingHead{pooling, normalize}, weights_->config.hidden_size);
  }

  Result<std::vector<float>> classify(const TokenBatch& batch) override {
    return run(batch, ClassifierHead{}, weights_->config.num_labels);
  }

  // Compiles the programs of `head` for every bucket.
  Result<void> warm_up(const EncoderHead& head) {
    for (size_t batch : series_.batches()) {
      for (size_t sequence : series_.sequences()) {
        if (auto compiled = executable(head, {batch, sequence}); !compiled) return compiled.error();
      }
    }
    return {};
  }

 private:
  Result<const PjrtExecutable*> executable(const EncoderHead& head, EncoderBucket bucket) {
    const ProgramKey key = key_of(head, bucket);
    std::lock_guard lock(compile_mu_);
    if (auto found = executables_.find(key); found != executables_.end()) return &found->second;
    const std::string shape = std::to_string(bucket.batch) + " x " + std::to_string(bucket.sequence) + " tokens";
    auto program = encoder_program(weights_->config, bucket, head, options_.precision);
    if (!program) return Error{"the encoder for " + shape + ": " + program.error().message};
    auto compiled = runtime_->compile(*program, options_.model_digest);
    if (!compiled) return Error{"compiling the encoder for " + shape + ": " + compiled.error().message};
    return &executables_.emplace(key, std::move(compiled).value()).first->second;
  }

  // The rows of one run's sequences, `width` floats each, written to their places in `out`.
  Result<void> execute(const TokenBatch& batch, const BucketRun& run, const EncoderHead& head, size_t width,
                       std::vector<float>& out) {
    auto program = executable(head, run.bucket);
    if (!program) return program.error();
    const size_t rows = run.bucket.batch, columns = run.bucket.sequence;
    std::vector<int32_t> ids(rows * columns, 0), types(rows * columns, 0);
    std::vector<float> mask(rows * columns, 0.0f);
    for (size_t r = 0; r < run.sequences.size(); ++r) {
      const size_t sequence = run.sequences[r], begin = batch.offsets[sequence];
      for (size_t t = 0; t < batch.length(sequence); ++t) {
        ids[r * columns + t] = batch.ids[begin + t];
        types[r * columns + t] = batch.type_ids[begin + t];
        mask[r * columns + t] = 1.0f;
      }
    }
    const int device = runtime_->devices()[run.device].id;
    const std::vector<int64_t> dims{static_cast<int64_t>(rows), static_cast<int64_t>(columns)};
    auto id_buffer = runtime_->client().buffer_from_host_i32(ids, dims, device);
    if (!id_buffer) return id_buffer.error();
    auto type_buffer = runtime_->client().buffer_from_host_i32(types, dims, device);
    if (!type_buffer) return type_buffer.error();
    auto mask_buffer = runtime_->client().buffer_from_host(mask, dims, device);
    if (!mask_buffer) return mask_buffer.error();
    std::vector<const PjrtBuffer*> arguments{&*id_buffer, &*type_buffer, &*mask_buffer};
    const ResidentWeights& resident = resident_[run.device];
    // An embedding program on a classifier's weights takes the leading ones (the head's come last).
    const size_t used = std::holds_alternative<ClassifierHead>(head) ? resident.size() : embedding_parameters_;
    for (size_t i = 0; i < used; ++i) arguments.push_back(&resident[i]);
    auto outputs = (*program)->execute(arguments, device);
    if (!outputs) return outputs.error();
    runtime_->count_run(run.device);
    auto values = outputs->front().to_host();
    if (!values) return values.error();
    for (size_t r = 0; r < run.sequences.size(); ++r) {
      std::copy_n(values->begin() + static_cast<std::ptrdiff_t>(r * width), width,
                  out.begin() + static_cast<std::ptrdiff_t>(run.sequences[r] * width));
    }
    return {};
  }

  Result<std::vector<float>> run(const TokenBatch& batch, const EncoderHead& head, size_t width) {
    std::vector<size_t> lengths(batch.size());
    for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = batch.length(i);
    const std::vector<BucketRun> plan = plan_bucket_runs(lengths, resident_.size(), series_);
    std::vector<float> out(batch.size() * width);
    // Each device runs its runs in order, the devices at once.
    std::vector<Result<void>> outcomes(resident_.size());
    const auto device_work = [&](size_t device) {
      for (const BucketRun& planned : plan) {
        if (planned.device != device) continue;
        outcomes[device] = execute(batch, planned, head, width, out);
        if (!outcomes[device]) return;
      }
    };
    const size_t busy = std::min(plan.size(), resident_.size());
    std::vector<std::jthread> others;
    for (size_t device = 1; device < busy; ++device) others.emplace_back(device_work, device);
    device_work(0);
    others.clear();
    for (Result<void>& outcome : outcomes) {
      if (!outcome) return outcome.error();
    }
    return out;
  }

  std::shared_ptr<const model::BertWeights> weights_;
  std::shared_ptr<PjrtRuntime> runtime_;
  PjrtEncoderOptions options_;
  BucketSeries series_;
  std::vector<ResidentWeights> resident_;  // per device
  size_t embedding_parameters_;            // how many of them an embedding program takes
  std::mutex compile_mu_;
  std::map<ProgramKey, PjrtExecutable> executables_;
};

}  // namespace

Result<std::unique_ptr<EncoderBackend>> make_pjrt_encoder_backend(std::shared_ptr<const model::BertWeights> weights,
                                                                  std::shared_ptr<PjrtRuntime> runtime,
                                                                  const PjrtEncoderOptions& options) {
  const EncoderHead head = weights->config.head == model::BertHead::sequence_classification
                               ? EncoderHead{ClassifierHead{}}
                               : EncoderHead{EmbeddingHead{options.pooling, false}};
  const std::vector<EncoderParameter> parameters = encoder_parameters(weights->config, head);
  auto values = encoder_weight_values(*weights, head);
  if (!values) return values.error();
  std::vector<int> device_ids;
  for (const PjrtDevice& device : runtime->devices()) device_ids.push_back(device.id);
  auto resident = upload_weights(runtime->client(), device_ids, parameters, *values, options.precision);
  if (!resident) return resident.error();
  auto backend = std::make_unique<PjrtEncoderBackend>(weights, runtime, options, std::move(resident).value(),
                                                      encoder_parameters(weights->config, EmbeddingHead{}).size());
  if (options.warmup) {
    if (auto warmed = backend->warm_up(head); !warmed) return warmed.error();
  }
  return std::unique_ptr<EncoderBackend>(std::move(backend));
}

}  // namespace tpustack::inferd::engine::pjrt
