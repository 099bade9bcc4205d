#include "inferd/engine/pjrt/pjrt_executable.h"

#include <memory>
#include <utility>

#include "inferd/engine/pjrt/addressable_devices.h"
#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "inferd/engine/pjrt/plugin_call.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

struct ExecutableDestroyer {
  const PJRT_Api* api;
  void operator()(PJRT_Executable* executable) const {
    PJRT_Executable_Destroy_Args args{};
    args.struct_size = PJRT_Executable_Destroy_Args_STRUCT_SIZE;
    args.executable = executable;
    log_error(*api, api->PJRT_Executable_Destroy(&args), "PJRT_Executable_Destroy");
  }
};

// The executable a loaded one was compiled from, which the queries about the compiled program take: a separate
// object, freed with this.
using CompiledExecutable = std::unique_ptr<PJRT_Executable, ExecutableDestroyer>;

Result<CompiledExecutable> compiled_executable(const PJRT_Api& api, PJRT_LoadedExecutable* loaded) {
  PJRT_LoadedExecutable_GetExecutable_Args get{};
  get.struct_size = PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE;
  get.loaded_executable = loaded;
  if (PJRT_Error* error = api.PJRT_LoadedExecutable_GetExecutable(&get)) {
    return take_error(api, error, "PJRT_LoadedExecutable_GetExecutable");
  }
  return CompiledExecutable(get.executable, ExecutableDestroyer{&api});
}

}  // namespace

PjrtExecutable::PjrtExecutable(PjrtExecutable&& other) noexcept
    : api_(other.api_),
      devices_(std::move(other.devices_)),
      executable_(std::exchange(other.executable_, nullptr)),
      num_outputs_(other.num_outputs_) {}

PjrtExecutable& PjrtExecutable::operator=(PjrtExecutable&& other) noexcept {
  if (this != &other) {
    PjrtExecutable gone(std::move(*this));
    api_ = other.api_;
    devices_ = std::move(other.devices_);
    executable_ = std::exchange(other.executable_, nullptr);
    num_outputs_ = other.num_outputs_;
  }
  return *this;
}

PjrtExecutable::~PjrtExecutable() {
  if (executable_ == nullptr) return;
  PJRT_LoadedExecutable_Destroy_Args args{};
  args.struct_size = PJRT_LoadedExecutable_Destroy_Args_STRUCT_SIZE;
  args.executable = executable_;
  log_error(*api_, api_->PJRT_LoadedExecutable_Destroy(&args), "PJRT_LoadedExecutable_Destroy");
}

Result<void> PjrtExecutable::count_outputs() {
  auto compiled = compiled_executable(*api_, executable_);
  if (!compiled) return compiled.error();
  PJRT_Executable_NumOutputs_Args count{};
  count.struct_size = PJRT_Executable_NumOutputs_Args_STRUCT_SIZE;
  count.executable = compiled->get();
  if (PJRT_Error* error = api_->PJRT_Executable_NumOutputs(&count)) {
    return take_error(*api_, error, "PJRT_Executable_NumOutputs");
  }
  num_outputs_ = count.num_outputs;
  return {};
}

Result<std::string> PjrtExecutable::serialize() const {
  // Optional in the table; without it there is nothing to cache.
  if (api_->PJRT_Executable_Serialize == nullptr) {
    return Error{"the PJRT plugin does not implement PJRT_Executable_Serialize", ErrorKind::kFailedPrecondition};
  }
  auto compiled = compiled_executable(*api_, executable_);
  if (!compiled) return compiled.error();
  PJRT_Executable_Serialize_Args args{};
  args.struct_size = PJRT_Executable_Serialize_Args_STRUCT_SIZE;
  args.executable = compiled->get();
  if (PJRT_Error* error = api_->PJRT_Executable_Serialize(&args)) {
    return take_error(*api_, error, "PJRT_Executable_Serialize");
  }
  std::string bytes(args.serialized_bytes, args.serialized_bytes_size);
  if (args.serialized_executable_deleter != nullptr) args.serialized_executable_deleter(args.serialized_executable);
  return bytes;
}

Result<std::vector<PjrtBuffer>> PjrtExecutable::execute(const std::vector<const PjrtBuffer*>& arguments,
                                                        int device_id) const {
  auto device = devices_->find(device_id);
  if (!device) return device.error();

  std::vector<PJRT_Buffer*> argument_list;
  argument_list.reserve(arguments.size());
  for (const PjrtBuffer* argument : arguments) argument_list.push_back(argument->handle());
  PJRT_Buffer* const* argument_lists[] = {argument_list.data()};
  std::vector<PJRT_Buffer*> output_list(num_outputs_, nullptr);
  PJRT_Buffer** output_lists[] = {output_list.data()};
  PJRT_Event* complete = nullptr;

  PJRT_ExecuteOptions options{};
  options.struct_size = PJRT_ExecuteOptions_STRUCT_SIZE;
  PJRT_LoadedExecutable_Execute_Args args{};
  args.struct_size = PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE;
  args.executable = executable_;
  args.options = &options;
  args.argument_lists = argument_lists;
  args.num_devices = 1;
  args.num_args = argument_list.size();
  args.output_lists = output_lists;
  args.device_complete_events = &complete;
  args.execute_device = *device;
  if (PJRT_Error* error = api_->PJRT_LoadedExecutable_Execute(&args)) {
    return take_error(*api_, error, "PJRT_LoadedExecutable_Execute");
  }

  // Owned before waiting, so that a run that fails on the device frees its outputs.
  std::vector<PjrtBuffer> outputs;
  outputs.reserve(output_list.size());
  for (PJRT_Buffer* output : output_list) outputs.push_back(PjrtBuffer(api_, output));
  if (auto done = await_event(*api_, complete, "PJRT_LoadedExecutable_Execute"); !done) return done.error();
  for (PjrtBuffer& output : outputs) {
    if (auto shape = output.read_shape(); !shape) return shape.error();
  }
  return outputs;
}

}  // namespace tpustack::inferd::engine::pjrt
