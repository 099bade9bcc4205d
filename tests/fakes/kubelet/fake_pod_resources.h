#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "proto/podresources/v1/api.grpc.pb.h"

namespace tpustack::fakes {

// One container's devices of one resource, as the kubelet's PodResources List reports them.
struct DeviceAssignment {
  std::string pod;
  std::string container;
  std::string resource_name;
  std::vector<std::string> device_ids;
};

// The kubelet's PodResourcesLister (v1 List) on a unix socket, answering with what the test set.
class FakePodResources {
 public:
  explicit FakePodResources(const std::string& socket_path);
  ~FakePodResources();
  FakePodResources(const FakePodResources&) = delete;
  FakePodResources& operator=(const FakePodResources&) = delete;

  void set_assignments(std::vector<DeviceAssignment> assignments);

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tpustack::fakes
