#pragma once

#include <array>
#include <string>

#include "common/topology/generation.h"
#include "common/topology/topology.h"

namespace tpustack::topology {

// One slice shape on one kind of VM: what a node pool is made of and what every host of it looks
// like to libtpu. Constructed only through make(), so every SliceSpec is real hardware.
class SliceSpec {
 public:
  // An Error when the VM cannot build the topology, e.g. v6e 4x4 on ct6e-standard-8t
  // (multi-host slices use 4-chip VMs) or 2x2 on an 8-chip VM.
  static Result<SliceSpec> make(Generation generation, const Topology& topology, int chips_per_host);
  // From strings as they appear in node labels / flags ("tpu-v6e-slice", "4x4").
  static Result<SliceSpec> make(std::string_view generation, std::string_view topology, int chips_per_host);
  // The usual VM: the one that holds the whole slice if one exists (v5e/v6e 2x4 → 8 chips),
  // otherwise the generation's multi-host VM.
  static Result<SliceSpec> with_default_host(Generation generation, const Topology& topology);
  // From strings as they appear in node labels / flags ("tpu-v6e-slice", "4x4").
  static Result<SliceSpec> with_default_host(std::string_view generation, std::string_view topology);
  static Result<SliceSpec> for_machine_type(const Topology& topology, std::string_view machine_type);

  Generation generation() const { return generation_; }
  const GenerationInfo& generation_info() const { return info(generation_); }
  const Topology& topology() const { return topology_; }
  int chips_per_host() const { return chips_per_host_; }
  int chips() const { return topology_.chips(); }
  int hosts() const { return topology_.chips() / chips_per_host_; }
  bool multi_host() const { return hosts() > 1; }
  std::string machine_type() const;

  // TPU_ACCELERATOR_TYPE: "v6e-16", "v5litepod-8", "v5p-128", "v4-16".
  std::string accelerator_type() const;
  // Hosts along each axis (TPU_HOST_BOUNDS): topology ÷ chips-per-host bounds; 2D gets z = 1.
  std::array<int, 3> host_bounds() const;
  std::array<int, 3> chips_per_host_bounds() const;
  // TPU_TOPOLOGY_WRAP: 3D generations wrap every axis at 4x4x4 and larger; v5e/v6e wrap an axis of 16.
  std::array<bool, 3> wrap() const;
  // v4, v5p and tpu7x slices of a full cube or more get ICI resiliency by default.
  bool ici_resiliency_default() const;

  bool operator==(const SliceSpec&) const = default;

 private:
  SliceSpec(Generation g, Topology t, int c) : generation_(g), topology_(t), chips_per_host_(c) {}
  Generation generation_;
  Topology topology_;
  int chips_per_host_;
};

}  // namespace tpustack::topology
