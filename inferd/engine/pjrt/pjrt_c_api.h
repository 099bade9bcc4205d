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

// ---------------------------------------------------------------------------------------------------- the table
// The published table's first 33 fields, in its order; it continues past PJRT_Device_GetDescription, which this
// prefix ends at. A plugin's `struct_size` says how much of the table it fills.

struct PJRT_Api {
  size_t struct_size;
  PJRT_Extension_Base* extension_start;

  PJRT_Api_Version pjrt_api_version;

  PJRT_Error_Destroy* PJRT_Error_Destroy;
  PJRT_Error_Message* PJRT_Error_Message;
  PJRT_Error_GetCode* PJRT_Error_GetCode;

  PJRT_Plugin_Initialize* PJRT_Plugin_Initialize;
  PJRT_Opaque_Function PJRT_Plugin_Attributes;

  PJRT_Opaque_Function PJRT_Event_Destroy;
  PJRT_Opaque_Function PJRT_Event_IsReady;
  PJRT_Opaque_Function PJRT_Event_Error;
  PJRT_Opaque_Function PJRT_Event_Await;
  PJRT_Opaque_Function PJRT_Event_OnReady;

  PJRT_Client_Create* PJRT_Client_Create;
  PJRT_Client_Destroy* PJRT_Client_Destroy;
  PJRT_Client_PlatformName* PJRT_Client_PlatformName;
  PJRT_Opaque_Function PJRT_Client_ProcessIndex;
  PJRT_Opaque_Function PJRT_Client_PlatformVersion;
  PJRT_Opaque_Function PJRT_Client_Devices;
  PJRT_Client_AddressableDevices* PJRT_Client_AddressableDevices;
  PJRT_Opaque_Function PJRT_Client_LookupDevice;
  PJRT_Opaque_Function PJRT_Client_LookupAddressableDevice;
  PJRT_Opaque_Function PJRT_Client_AddressableMemories;
  PJRT_Opaque_Function PJRT_Client_Compile;
  PJRT_Opaque_Function PJRT_Client_DefaultDeviceAssignment;
  PJRT_Opaque_Function PJRT_Client_BufferFromHostBuffer;

  PJRT_DeviceDescription_Id* PJRT_DeviceDescription_Id;
  PJRT_Opaque_Function PJRT_DeviceDescription_ProcessIndex;
  PJRT_Opaque_Function PJRT_DeviceDescription_Attributes;
  PJRT_DeviceDescription_Kind* PJRT_DeviceDescription_Kind;
  PJRT_Opaque_Function PJRT_DeviceDescription_DebugString;
  PJRT_Opaque_Function PJRT_DeviceDescription_ToString;

  PJRT_Device_GetDescription* PJRT_Device_GetDescription;
};

// The plugin's only exported symbol.
typedef const PJRT_Api* PJRT_GetPjrtApi();

}  // extern "C"

// The layout facts the declarations above must keep (LP64: 8-byte pointers and size_t, 4-byte int and enum).
static_assert(sizeof(PJRT_Error_Code) == 4);
static_assert(offsetof(PJRT_Api, pjrt_api_version) == 16 && sizeof(PJRT_Api_Version) == 24);
static_assert(offsetof(PJRT_Api, PJRT_Error_Destroy) == 40);
static_assert(offsetof(PJRT_Api, PJRT_Client_Create) == 40 + 10 * 8);
static_assert(offsetof(PJRT_Api, PJRT_DeviceDescription_Id) == 40 + 23 * 8);
static_assert(sizeof(PJRT_Api) == 40 + 30 * 8);
static_assert(PJRT_Client_Create_Args_STRUCT_SIZE == 11 * 8);
static_assert(PJRT_Error_GetCode_Args_STRUCT_SIZE == 28 && PJRT_DeviceDescription_Id_Args_STRUCT_SIZE == 28);
