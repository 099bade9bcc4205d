#pragma once

// Our own declarations of the part of the PJRT C API that inferd calls, written from the facts of the published
// header (openxla/xla, xla/pjrt/c/pjrt_c_api.h) at PJRT API version 0.94. Only what inferd uses is declared: the
// argument structs of the calls below, the error codes, and the PJRT_Api function table up to the last entry inferd
// calls, in the header's order, with the entries it does not call kept as opaque pointers so that every offset
// matches. The names are the header's, so each declaration can be checked against it.
//
// ABI rules (from the header): every argument struct starts with `struct_size` and `extension_start`; the caller
// sets `struct_size` to the size up to the struct's last field (PJRT_STRUCT_SIZE) so that the plugin can tell which
// fields it was given, and plugins refuse a struct smaller than the one they were built with. A minor version only
// appends fields and table entries; a major version breaks the ABI.

#include <cstddef>
#include <cstdint>

#define PJRT_STRUCT_SIZE(struct_type, last_field) \
  (offsetof(struct_type, last_field) + sizeof(static_cast<struct_type*>(nullptr)->last_field))

extern "C" {

// The version these declarations follow. The PJRT_Api table was last rearranged at 0.57 (the API's CHANGELOG); since
// then the entries inferd calls and the argument structs it fills have only grown at their ends, so a plugin of 0.57
// or later reads them as declared here.
inline constexpr int PJRT_API_MAJOR = 0;
inline constexpr int PJRT_API_MINOR = 94;
inline constexpr int PJRT_API_MINOR_REQUIRED = 57;

// Opaque to the caller; only the plugin defines them.
struct PJRT_Extension_Base;
struct PJRT_Error;
struct PJRT_Client;
struct PJRT_Device;
struct PJRT_DeviceDescription;
struct PJRT_NamedValue;
struct PJRT_Event;
struct PJRT_Memory;
struct PJRT_Buffer;
struct PJRT_Executable;
struct PJRT_LoadedExecutable;
struct PJRT_SerializedExecutable;
struct PJRT_ExecuteContext;
struct PJRT_SendCallbackInfo;
struct PJRT_RecvCallbackInfo;

// An entry of the function table that inferd does not call: only its size and place matter.
using PJRT_Opaque_Function = void (*)();

struct PJRT_Api_Version {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  int major_version;  // out
  int minor_version;  // out
};
inline constexpr size_t PJRT_Api_Version_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Api_Version, minor_version);

// ---------------------------------------------------------------------------------------------------- errors
// Every call returns a PJRT_Error*, nullptr for success; the caller reads it and must free it with
// PJRT_Error_Destroy.

enum PJRT_Error_Code {
  PJRT_Error_Code_OK = 0,
  PJRT_Error_Code_CANCELLED = 1,
  PJRT_Error_Code_UNKNOWN = 2,
  PJRT_Error_Code_INVALID_ARGUMENT = 3,
  PJRT_Error_Code_DEADLINE_EXCEEDED = 4,
  PJRT_Error_Code_NOT_FOUND = 5,
  PJRT_Error_Code_ALREADY_EXISTS = 6,
  PJRT_Error_Code_PERMISSION_DENIED = 7,
  PJRT_Error_Code_RESOURCE_EXHAUSTED = 8,
  PJRT_Error_Code_FAILED_PRECONDITION = 9,
  PJRT_Error_Code_ABORTED = 10,
  PJRT_Error_Code_OUT_OF_RANGE = 11,
  PJRT_Error_Code_UNIMPLEMENTED = 12,
  PJRT_Error_Code_INTERNAL = 13,
  PJRT_Error_Code_UNAVAILABLE = 14,
  PJRT_Error_Code_DATA_LOSS = 15,
  PJRT_Error_Code_UNAUTHENTICATED = 16,
};

struct PJRT_Error_Destroy_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Error* error;
};
inline constexpr size_t PJRT_Error_Destroy_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Error_Destroy_Args, error);
typedef void PJRT_Error_Destroy(PJRT_Error_Destroy_Args* args);

struct PJRT_Error_Message_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  const PJRT_Error* error;
  const char* message;  // out, lives as long as `error`, not NUL-terminated
  size_t message_size;  // out
};
inline constexpr size_t PJRT_Error_Message_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Error_Message_Args, message_size);
typedef void PJRT_Error_Message(PJRT_Error_Message_Args* args);

struct PJRT_Error_GetCode_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  const PJRT_Error* error;
  PJRT_Error_Code code;  // out
};
inline constexpr size_t PJRT_Error_GetCode_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Error_GetCode_Args, code);
typedef PJRT_Error* PJRT_Error_GetCode(PJRT_Error_GetCode_Args* args);

// ---------------------------------------------------------------------------------------------------- plugin

struct PJRT_Plugin_Initialize_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
};
inline constexpr size_t PJRT_Plugin_Initialize_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Plugin_Initialize_Args, extension_start);
// One-time set-up, before any other call.
typedef PJRT_Error* PJRT_Plugin_Initialize(PJRT_Plugin_Initialize_Args* args);

// ---------------------------------------------------------------------------------------------------- events
// Calls that start asynchronous work return a PJRT_Event, which the caller must free with PJRT_Event_Destroy.

struct PJRT_Event_Destroy_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Event* event;
};
inline constexpr size_t PJRT_Event_Destroy_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Event_Destroy_Args, event);
typedef PJRT_Error* PJRT_Event_Destroy(PJRT_Event_Destroy_Args* args);

struct PJRT_Event_Await_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Event* event;
};
inline constexpr size_t PJRT_Event_Await_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Event_Await_Args, event);
// Blocks until `event` is ready; returns its error (the caller frees it), nullptr when the work succeeded.
typedef PJRT_Error* PJRT_Event_Await(PJRT_Event_Await_Args* args);

// ---------------------------------------------------------------------------------------------------- client

// Key-value store callbacks for multi-process clients; inferd passes none.
struct PJRT_KeyValueGetCallback_Args;
struct PJRT_KeyValueTryGetCallback_Args;
struct PJRT_KeyValuePutCallback_Args;
typedef PJRT_Error* (*PJRT_KeyValueGetCallback)(PJRT_KeyValueGetCallback_Args* args);
typedef PJRT_Error* (*PJRT_KeyValueTryGetCallback)(PJRT_KeyValueTryGetCallback_Args* args);
typedef PJRT_Error* (*PJRT_KeyValuePutCallback)(PJRT_KeyValuePutCallback_Args* args);

struct PJRT_Client_Create_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  const PJRT_NamedValue* create_options;
  size_t num_options;
  PJRT_KeyValueGetCallback kv_get_callback;
  void* kv_get_user_arg;
  PJRT_KeyValuePutCallback kv_put_callback;
  void* kv_put_user_arg;
  PJRT_Client* client;  // out
  // Appended at 0.61.
  PJRT_KeyValueTryGetCallback kv_try_get_callback;
  void* kv_try_get_user_arg;
};
inline constexpr size_t PJRT_Client_Create_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Client_Create_Args, kv_try_get_user_arg);
typedef PJRT_Error* PJRT_Client_Create(PJRT_Client_Create_Args* args);

struct PJRT_Client_Destroy_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
};
inline constexpr size_t PJRT_Client_Destroy_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Client_Destroy_Args, client);
typedef PJRT_Error* PJRT_Client_Destroy(PJRT_Client_Destroy_Args* args);

struct PJRT_Client_PlatformName_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
  const char* platform_name;  // out, owned by `client` ("cpu", "cuda", "tpu")
  size_t platform_name_size;  // out
};
inline constexpr size_t PJRT_Client_PlatformName_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Client_PlatformName_Args, platform_name_size);
typedef PJRT_Error* PJRT_Client_PlatformName(PJRT_Client_PlatformName_Args* args);

struct PJRT_Client_PlatformVersion_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
  const char* platform_version;  // out, owned by `client`: the plugin's build (the libtpu or CUDA version)
  size_t platform_version_size;  // out
};
inline constexpr size_t PJRT_Client_PlatformVersion_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Client_PlatformVersion_Args, platform_version_size);
typedef PJRT_Error* PJRT_Client_PlatformVersion(PJRT_Client_PlatformVersion_Args* args);

struct PJRT_Client_AddressableDevices_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
  PJRT_Device* const* addressable_devices;  // out, owned by `client`
  size_t num_addressable_devices;           // out
};
inline constexpr size_t PJRT_Client_AddressableDevices_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Client_AddressableDevices_Args, num_addressable_devices);
typedef PJRT_Error* PJRT_Client_AddressableDevices(PJRT_Client_AddressableDevices_Args* args);

// ---------------------------------------------------------------------------------------------------- compile

struct PJRT_Program {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  char* code;  // owned by the caller; "mlir": StableHLO as MLIR text or bytecode
  size_t code_size;
  const char* format;  // "mlir", "hlo" (HloModuleProto), "hlo_with_config"
  size_t format_size;
};
inline constexpr size_t PJRT_Program_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Program, format_size);

struct PJRT_Client_Compile_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
  const PJRT_Program* program;
  const char* compile_options;  // a serialized xla.CompileOptionsProto
  size_t compile_options_size;
  PJRT_LoadedExecutable* executable;  // out, freed with PJRT_LoadedExecutable_Destroy
};
inline constexpr size_t PJRT_Client_Compile_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Client_Compile_Args, executable);
typedef PJRT_Error* PJRT_Client_Compile(PJRT_Client_Compile_Args* args);

// ---------------------------------------------------------------------------------------------------- buffers

// The header's enum, of which inferd names the values it moves; the rest keep their places unnamed.
enum PJRT_Buffer_Type {
  PJRT_Buffer_Type_INVALID = 0,
  PJRT_Buffer_Type_S32 = 4,
  PJRT_Buffer_Type_F32 = 11,
  PJRT_Buffer_Type_BF16 = 13,
};

enum PJRT_HostBufferSemantics {
  // The plugin copies `data` before the call returns.
  PJRT_HostBufferSemantics_kImmutableOnlyDuringCall = 0,
  // The plugin may read `data` until `done_with_host_buffer` is ready; the caller keeps it alive and unchanged.
  PJRT_HostBufferSemantics_kImmutableUntilTransferCompletes = 1,
  PJRT_HostBufferSemantics_kImmutableZeroCopy = 2,
  PJRT_HostBufferSemantics_kMutableZeroCopy = 3,
};

enum PJRT_Buffer_MemoryLayout_Type {
  PJRT_Buffer_MemoryLayout_Type_Tiled = 0,
  PJRT_Buffer_MemoryLayout_Type_Strides = 1,
};

struct PJRT_Buffer_MemoryLayout_Tiled {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  const int64_t* minor_to_major;  // logical dimensions, fastest varying first
  size_t minor_to_major_size;
  const int64_t* tile_dims;
  const size_t* tile_dim_sizes;
  size_t num_tiles;
};
inline constexpr size_t PJRT_Buffer_MemoryLayout_Tiled_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Buffer_MemoryLayout_Tiled, num_tiles);

struct PJRT_Buffer_MemoryLayout_Strides {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  const int64_t* byte_strides;
  size_t num_byte_strides;
};

struct PJRT_Buffer_MemoryLayout {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  union {
    PJRT_Buffer_MemoryLayout_Tiled tiled;
    PJRT_Buffer_MemoryLayout_Strides strides;
  };
  PJRT_Buffer_MemoryLayout_Type type;
};
inline constexpr size_t PJRT_Buffer_MemoryLayout_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Buffer_MemoryLayout, type);

struct PJRT_Client_BufferFromHostBuffer_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
  const void* data;
  PJRT_Buffer_Type type;  // of `data` and of the buffer made
  const int64_t* dims;
  size_t num_dims;
  const int64_t* byte_strides;  // none: dense, major-to-minor
  size_t num_byte_strides;
  PJRT_HostBufferSemantics host_buffer_semantics;
  PJRT_Device* device;
  PJRT_Memory* memory;                      // none: the device's default memory
  PJRT_Buffer_MemoryLayout* device_layout;  // none: the plugin's choice
  PJRT_Event* done_with_host_buffer;        // out, when `data` may be freed; the caller destroys it
  PJRT_Buffer* buffer;                      // out, freed with PJRT_Buffer_Destroy
};
inline constexpr size_t PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Client_BufferFromHostBuffer_Args, buffer);
// Starts copying a host array to device memory.
typedef PJRT_Error* PJRT_Client_BufferFromHostBuffer(PJRT_Client_BufferFromHostBuffer_Args* args);

// ---------------------------------------------------------------------------------------------------- devices

struct PJRT_DeviceDescription_Id_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_DeviceDescription* device_description;
  int id;  // out
};
inline constexpr size_t PJRT_DeviceDescription_Id_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_DeviceDescription_Id_Args, id);
typedef PJRT_Error* PJRT_DeviceDescription_Id(PJRT_DeviceDescription_Id_Args* args);

struct PJRT_DeviceDescription_Kind_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_DeviceDescription* device_description;
  const char* device_kind;  // out, owned by the device ("TPU v5 lite", "NVIDIA H100 80GB HBM3")
  size_t device_kind_size;  // out
};
inline constexpr size_t PJRT_DeviceDescription_Kind_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_DeviceDescription_Kind_Args, device_kind_size);
typedef PJRT_Error* PJRT_DeviceDescription_Kind(PJRT_DeviceDescription_Kind_Args* args);

struct PJRT_Device_GetDescription_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Device* device;
  PJRT_DeviceDescription* device_description;  // out
};
inline constexpr size_t PJRT_Device_GetDescription_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Device_GetDescription_Args, device_description);
typedef PJRT_Error* PJRT_Device_GetDescription(PJRT_Device_GetDescription_Args* args);

// ---------------------------------------------------------------------------------------------------- executables

struct PJRT_Executable_Destroy_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Executable* executable;
};
inline constexpr size_t PJRT_Executable_Destroy_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Executable_Destroy_Args, executable);
typedef PJRT_Error* PJRT_Executable_Destroy(PJRT_Executable_Destroy_Args* args);

struct PJRT_Executable_NumOutputs_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Executable* executable;
  size_t num_outputs;  // out, per device
};
inline constexpr size_t PJRT_Executable_NumOutputs_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Executable_NumOutputs_Args, num_outputs);
typedef PJRT_Error* PJRT_Executable_NumOutputs(PJRT_Executable_NumOutputs_Args* args);

struct PJRT_LoadedExecutable_Destroy_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_LoadedExecutable* executable;
};
inline constexpr size_t PJRT_LoadedExecutable_Destroy_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_LoadedExecutable_Destroy_Args, executable);
typedef PJRT_Error* PJRT_LoadedExecutable_Destroy(PJRT_LoadedExecutable_Destroy_Args* args);

struct PJRT_LoadedExecutable_GetExecutable_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_LoadedExecutable* loaded_executable;
  PJRT_Executable* executable;  // out, freed with PJRT_Executable_Destroy
};
inline constexpr size_t PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_LoadedExecutable_GetExecutable_Args, executable);
typedef PJRT_Error* PJRT_LoadedExecutable_GetExecutable(PJRT_LoadedExecutable_GetExecutable_Args* args);

struct PJRT_ExecuteOptions {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_SendCallbackInfo** send_callbacks;
  PJRT_RecvCallbackInfo** recv_callbacks;
  size_t num_send_ops;
  size_t num_recv_ops;
  int launch_id;  // 0: not part of a multi-device launch
  const int64_t* non_donatable_input_indices;
  size_t num_non_donatable_input_indices;
  // Appended at 0.64, 0.76 and 0.78.
  PJRT_ExecuteContext* context;
  const char* call_location;
  size_t num_tasks;
  int* task_ids;
  int64_t* incarnation_ids;
};
inline constexpr size_t PJRT_ExecuteOptions_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_ExecuteOptions, incarnation_ids);

struct PJRT_LoadedExecutable_Execute_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_LoadedExecutable* executable;
  PJRT_ExecuteOptions* options;
  PJRT_Buffer* const* const* argument_lists;  // [num_devices][num_args]
  size_t num_devices;
  size_t num_args;
  // [num_devices][num outputs], both levels allocated by the caller; the plugin fills in buffers the caller destroys.
  PJRT_Buffer** const* output_lists;
  // [num_devices] or nullptr: events ready when each device finishes; filled only when the call succeeds.
  PJRT_Event** device_complete_events;
  // Set: run on this one device only (num_devices 1), which needs an executable compiled without a device assignment.
  PJRT_Device* execute_device;
};
inline constexpr size_t PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_LoadedExecutable_Execute_Args, execute_device);
typedef PJRT_Error* PJRT_LoadedExecutable_Execute(PJRT_LoadedExecutable_Execute_Args* args);

// ---------------------------------------------------------------------------------------------------- serialized
// A compiled executable as bytes, to load again without compiling. The bytes are only valid for the platform and
// plugin build that made them.

struct PJRT_Executable_Serialize_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  const PJRT_Executable* executable;
  const char* serialized_bytes;                      // out, lives as long as `serialized_executable`
  size_t serialized_bytes_size;                      // out
  PJRT_SerializedExecutable* serialized_executable;  // out, backs `serialized_bytes`
  // out: frees `serialized_executable`; the caller calls it once.
  void (*serialized_executable_deleter)(PJRT_SerializedExecutable* executable);
};
inline constexpr size_t PJRT_Executable_Serialize_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Executable_Serialize_Args, serialized_executable_deleter);
typedef PJRT_Error* PJRT_Executable_Serialize(PJRT_Executable_Serialize_Args* args);

struct PJRT_Executable_DeserializeAndLoad_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Client* client;
  const char* serialized_executable;  // what PJRT_Executable_Serialize gave
  size_t serialized_executable_size;
  PJRT_LoadedExecutable* loaded_executable;  // out, freed with PJRT_LoadedExecutable_Destroy
  // Appended at 0.71: a serialized xla.CompileOptionsProto to use instead of the one the bytes hold; none keeps it.
  const char* overridden_serialized_compile_options;
  size_t overridden_serialized_compile_options_size;
};
inline constexpr size_t PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Executable_DeserializeAndLoad_Args, overridden_serialized_compile_options_size);
typedef PJRT_Error* PJRT_Executable_DeserializeAndLoad(PJRT_Executable_DeserializeAndLoad_Args* args);

// ---------------------------------------------------------------------------------------------------- buffer calls

struct PJRT_Buffer_Destroy_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Buffer* buffer;
};
inline constexpr size_t PJRT_Buffer_Destroy_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Buffer_Destroy_Args, buffer);
typedef PJRT_Error* PJRT_Buffer_Destroy(PJRT_Buffer_Destroy_Args* args);

struct PJRT_Buffer_ElementType_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Buffer* buffer;
  PJRT_Buffer_Type type;  // out
};
inline constexpr size_t PJRT_Buffer_ElementType_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Buffer_ElementType_Args, type);
typedef PJRT_Error* PJRT_Buffer_ElementType(PJRT_Buffer_ElementType_Args* args);

struct PJRT_Buffer_Dimensions_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Buffer* buffer;
  const int64_t* dims;  // out, lives as long as `buffer`
  size_t num_dims;      // out
};
inline constexpr size_t PJRT_Buffer_Dimensions_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Buffer_Dimensions_Args, num_dims);
typedef PJRT_Error* PJRT_Buffer_Dimensions(PJRT_Buffer_Dimensions_Args* args);

struct PJRT_Buffer_ToHostBuffer_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Buffer* src;
  PJRT_Buffer_MemoryLayout* host_layout;  // none: the device buffer's own layout
  void* dst;                              // nullptr: only set `dst_size` to the bytes needed
  size_t dst_size;                        // in/out
  PJRT_Event* event;                      // out, ready when the copy is done; the caller destroys it
};
inline constexpr size_t PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE =
    PJRT_STRUCT_SIZE(PJRT_Buffer_ToHostBuffer_Args, event);
// Starts copying the buffer into `dst`.
typedef PJRT_Error* PJRT_Buffer_ToHostBuffer(PJRT_Buffer_ToHostBuffer_Args* args);

struct PJRT_Buffer_ReadyEvent_Args {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;
  PJRT_Buffer* buffer;
  PJRT_Event* event;  // out, ready when the buffer's data is (or failed); the caller destroys it
};
inline constexpr size_t PJRT_Buffer_ReadyEvent_Args_STRUCT_SIZE = PJRT_STRUCT_SIZE(PJRT_Buffer_ReadyEvent_Args, event);
typedef PJRT_Error* PJRT_Buffer_ReadyEvent(PJRT_Buffer_ReadyEvent_Args* args);

// ---------------------------------------------------------------------------------------------------- the table
// The published table's first 76 fields, in its order; it continues past PJRT_Buffer_ReadyEvent, which this prefix
// ends at. A plugin's `struct_size` says how much of the table it fills.

struct PJRT_Api {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;

  PJRT_Api_Version pjrt_api_version;

  PJRT_Error_Destroy* PJRT_Error_Destroy;
  PJRT_Error_Message* PJRT_Error_Message;
  PJRT_Error_GetCode* PJRT_Error_GetCode;

  PJRT_Plugin_Initialize* PJRT_Plugin_Initialize;
  PJRT_Opaque_Function PJRT_Plugin_Attributes;

  PJRT_Event_Destroy* PJRT_Event_Destroy;
  PJRT_Opaque_Function PJRT_Event_IsReady;
  PJRT_Opaque_Function PJRT_Event_Error;
  PJRT_Event_Await* PJRT_Event_Await;
  PJRT_Opaque_Function PJRT_Event_OnReady;

  PJRT_Client_Create* PJRT_Client_Create;
  PJRT_Client_Destroy* PJRT_Client_Destroy;
  PJRT_Client_PlatformName* PJRT_Client_PlatformName;
  PJRT_Opaque_Function PJRT_Client_ProcessIndex;
  PJRT_Client_PlatformVersion* PJRT_Client_PlatformVersion;
  PJRT_Opaque_Function PJRT_Client_Devices;
  PJRT_Client_AddressableDevices* PJRT_Client_AddressableDevices;
  PJRT_Opaque_Function PJRT_Client_LookupDevice;
  PJRT_Opaque_Function PJRT_Client_LookupAddressableDevice;
  PJRT_Opaque_Function PJRT_Client_AddressableMemories;
  PJRT_Client_Compile* PJRT_Client_Compile;
  PJRT_Opaque_Function PJRT_Client_DefaultDeviceAssignment;
  PJRT_Client_BufferFromHostBuffer* PJRT_Client_BufferFromHostBuffer;

  PJRT_DeviceDescription_Id* PJRT_DeviceDescription_Id;
  PJRT_Opaque_Function PJRT_DeviceDescription_ProcessIndex;
  PJRT_Opaque_Function PJRT_DeviceDescription_Attributes;
  PJRT_DeviceDescription_Kind* PJRT_DeviceDescription_Kind;
  PJRT_Opaque_Function PJRT_DeviceDescription_DebugString;
  PJRT_Opaque_Function PJRT_DeviceDescription_ToString;

  PJRT_Device_GetDescription* PJRT_Device_GetDescription;
  PJRT_Opaque_Function PJRT_Device_IsAddressable;
  PJRT_Opaque_Function PJRT_Device_LocalHardwareId;
  PJRT_Opaque_Function PJRT_Device_AddressableMemories;
  PJRT_Opaque_Function PJRT_Device_DefaultMemory;
  PJRT_Opaque_Function PJRT_Device_MemoryStats;

  PJRT_Opaque_Function PJRT_Memory_Id;
  PJRT_Opaque_Function PJRT_Memory_Kind;
  PJRT_Opaque_Function PJRT_Memory_DebugString;
  PJRT_Opaque_Function PJRT_Memory_ToString;
  PJRT_Opaque_Function PJRT_Memory_AddressableByDevices;

  PJRT_Executable_Destroy* PJRT_Executable_Destroy;
  PJRT_Opaque_Function PJRT_Executable_Name;
  PJRT_Opaque_Function PJRT_Executable_NumReplicas;
  PJRT_Opaque_Function PJRT_Executable_NumPartitions;
  PJRT_Executable_NumOutputs* PJRT_Executable_NumOutputs;
  PJRT_Opaque_Function PJRT_Executable_SizeOfGeneratedCodeInBytes;
  PJRT_Opaque_Function PJRT_Executable_GetCostAnalysis;
  PJRT_Opaque_Function PJRT_Executable_OutputMemoryKinds;
  PJRT_Opaque_Function PJRT_Executable_OptimizedProgram;
  PJRT_Executable_Serialize* PJRT_Executable_Serialize;

  PJRT_LoadedExecutable_Destroy* PJRT_LoadedExecutable_Destroy;
  PJRT_LoadedExecutable_GetExecutable* PJRT_LoadedExecutable_GetExecutable;
  PJRT_Opaque_Function PJRT_LoadedExecutable_AddressableDevices;
  PJRT_Opaque_Function PJRT_LoadedExecutable_Delete;
  PJRT_Opaque_Function PJRT_LoadedExecutable_IsDeleted;
  PJRT_LoadedExecutable_Execute* PJRT_LoadedExecutable_Execute;
  PJRT_Executable_DeserializeAndLoad* PJRT_Executable_DeserializeAndLoad;
  PJRT_Opaque_Function PJRT_LoadedExecutable_Fingerprint;

  PJRT_Buffer_Destroy* PJRT_Buffer_Destroy;
  PJRT_Buffer_ElementType* PJRT_Buffer_ElementType;
  PJRT_Buffer_Dimensions* PJRT_Buffer_Dimensions;
  PJRT_Opaque_Function PJRT_Buffer_UnpaddedDimensions;
  PJRT_Opaque_Function PJRT_Buffer_DynamicDimensionIndices;
  PJRT_Opaque_Function PJRT_Buffer_GetMemoryLayout;
  PJRT_Opaque_Function PJRT_Buffer_OnDeviceSizeInBytes;
  PJRT_Opaque_Function PJRT_Buffer_Device;
  PJRT_Opaque_Function PJRT_Buffer_Memory;
  PJRT_Opaque_Function PJRT_Buffer_Delete;
  PJRT_Opaque_Function PJRT_Buffer_IsDeleted;
  PJRT_Opaque_Function PJRT_Buffer_CopyToDevice;
  PJRT_Buffer_ToHostBuffer* PJRT_Buffer_ToHostBuffer;
  PJRT_Opaque_Function PJRT_Buffer_IsOnCpu;
  PJRT_Buffer_ReadyEvent* PJRT_Buffer_ReadyEvent;
};

// The plugin's only exported symbol.
typedef const PJRT_Api* PJRT_GetPjrtApi();

}  // extern "C"

// The layout facts the declarations above must keep (LP64: 8-byte pointers and size_t, 4-byte int and enum).
static_assert(sizeof(PJRT_Error_Code) == 4 && sizeof(PJRT_Buffer_Type) == 4 && sizeof(PJRT_HostBufferSemantics) == 4);
static_assert(offsetof(PJRT_Api, pjrt_api_version) == 16 && sizeof(PJRT_Api_Version) == 24);
static_assert(offsetof(PJRT_Api, PJRT_Error_Destroy) == 40);
static_assert(offsetof(PJRT_Api, PJRT_Event_Destroy) == 40 + 5 * 8 &&
              offsetof(PJRT_Api, PJRT_Event_Await) == 40 + 8 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Client_Create) == 40 + 10 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Client_PlatformVersion) == 40 + 14 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Client_Compile) == 40 + 20 * 8);
static_assert(offsetof(PJRT_Api, PJRT_DeviceDescription_Id) == 40 + 23 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Device_GetDescription) == 40 + 29 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Executable_Destroy) == 40 + 40 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Executable_Serialize) == 40 + 49 * 8);
static_assert(offsetof(PJRT_Api, PJRT_LoadedExecutable_Destroy) == 40 + 50 * 8);
static_assert(offsetof(PJRT_Api, PJRT_LoadedExecutable_Execute) == 40 + 55 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Executable_DeserializeAndLoad) == 40 + 56 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Buffer_Destroy) == 40 + 58 * 8);
static_assert(offsetof(PJRT_Api, PJRT_Buffer_ToHostBuffer) == 40 + 70 * 8);
static_assert(sizeof(PJRT_Api) == 40 + 73 * 8);
static_assert(PJRT_Client_Create_Args_STRUCT_SIZE == 11 * 8);
static_assert(PJRT_Error_GetCode_Args_STRUCT_SIZE == 28 && PJRT_DeviceDescription_Id_Args_STRUCT_SIZE == 28);
static_assert(PJRT_Program_STRUCT_SIZE == 48 && PJRT_Client_Compile_Args_STRUCT_SIZE == 56);
static_assert(sizeof(PJRT_Buffer_MemoryLayout_Tiled) == 56 && sizeof(PJRT_Buffer_MemoryLayout_Strides) == 32);
static_assert(offsetof(PJRT_Buffer_MemoryLayout, type) == 72 && PJRT_Buffer_MemoryLayout_STRUCT_SIZE == 76);
static_assert(offsetof(PJRT_Client_BufferFromHostBuffer_Args, dims) == 40 &&
              offsetof(PJRT_Client_BufferFromHostBuffer_Args, device) == 80 &&
              PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE == 120);
static_assert(offsetof(PJRT_ExecuteOptions, non_donatable_input_indices) == 56 &&
              PJRT_ExecuteOptions_STRUCT_SIZE == 112);
static_assert(PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE == 80);
static_assert(PJRT_Client_PlatformVersion_Args_STRUCT_SIZE == 40 && PJRT_Executable_Serialize_Args_STRUCT_SIZE == 56);
static_assert(offsetof(PJRT_Executable_DeserializeAndLoad_Args, loaded_executable) == 40 &&
              PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE == 64);
static_assert(PJRT_Buffer_ElementType_Args_STRUCT_SIZE == 28 && PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE == 56);
