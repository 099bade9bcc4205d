#pragma once

#include "common/result/result.h"

namespace inferd {

// inferd's code names them unqualified from its own namespace until it moves into tpustack::inferd.
using tpustack::Error;
using tpustack::Result;

}  // namespace inferd
