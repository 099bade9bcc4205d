#include "inferd/engine/pjrt/pjrt_executable.h"

#include <utility>

#include "inferd/engine/pjrt/addressable_devices.h"
#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "inferd/engine/pjrt/plugin_call.h"

namespace tpustack::inferd::engine::pjrt {

PjrtExecutable::PjrtExecutable(PjrtExecutable&& other) noexcept
    : api_(other.api_),
      client_(other.client_),
      executable_(std::exchange(other.executable_, nullptr)),
      num_outputs_(other.num_outputs_) {}

PjrtExecutable& PjrtExecutable::operator=(PjrtExecutable&& other) noexcept {
  if (this != &other) {
    PjrtExecutable gone(std::move(*this));
    api_ = other.api_;
    client_ = other.client_;
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
  // The count belongs to the executable the loaded one was made from, a separate object to free again.
  PJRT_LoadedExecutable_GetExecutable_Args get{};
  get.struct_size = PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE;
  get.loaded_executable = executable_;
  if (PJRT_Error* error = api_->PJRT_LoadedExecutable_GetExecutable(&get)) {
    return take_error(*api_, error, "PJRT_LoadedExecutable_GetExecutable");
  }

  PJRT_Executable_NumOutputs_Args count{};
  count.struct_size = PJRT_Executable_NumOutputs_Args_STRUCT_SIZE;
  count.executable = get.executable;
  PJRT_Error* count_error = api_->PJRT_Executable_NumOutputs(&count);

  PJRT_Executable_Destroy_Args destroy{};
  destroy.struct_size = PJRT_Executable_Destroy_Args_STRUCT_SIZE;
  destroy.executable = get.executable;
  log_error(*api_, api_->PJRT_Executable_Destroy(&destroy), "PJRT_Executable_Destroy");

  if (count_error != nullptr) return take_error(*api_, count_error, "PJRT_Executable_NumOutputs");
  num_outputs_ = count.num_outputs;
  return {};
}

Result<std::vector<PjrtBuffer>> PjrtExecutable::execute(const std::vector<const PjrtBuffer*>& arguments,
                                                        int device_id) const {
  auto device = find_addressable_device(*api_, client_, device_id);
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
