#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "extender/provisioner/node_pool_provider.h"

namespace tpustack::provisioning {

// Creates nothing: logs each operation it would run and records it. The pools it "created" are listed
// as RUNNING so that the controller, which trusts the provider's list, does not ask again.
class DryRunProvider : public NodePoolProvider {
 public:
  std::string name() const override { return "dry-run"; }
  Result<std::vector<PoolState>> list() override;
  Result<void> create(const PoolSpec& spec, std::stop_token stop) override;
  Result<void> resize(const std::string& pool, int node_count, std::stop_token stop) override;
  Result<void> remove(const std::string& pool, std::stop_token stop) override;

  // "create NAME MACHINE_TYPE xN TOPOLOGY", "resize NAME xN", "delete NAME", in order.
  std::vector<std::string> operations() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, PoolState> pools_;
  std::vector<std::string> operations_;
};

}  // namespace tpustack::provisioning
