#include "tests/fakes/kubelet/fake_pod_resources.h"

#include <stdexcept>

namespace tpustack::fakes {

class FakePodResources::Service final : public v1::PodResourcesLister::Service {
 public:
  void set(std::vector<DeviceAssignment> assignments) {
    std::lock_guard lock(mu_);
    assignments_ = std::move(assignments);
  }

  grpc::Status List(grpc::ServerContext*, const v1::ListPodResourcesRequest*,
                    v1::ListPodResourcesResponse* response) override {
    std::lock_guard lock(mu_);
    for (const auto& a : assignments_) {
      auto* pod = response->add_pod_resources();
      pod->set_name(a.pod);
      pod->set_namespace_("default");
      auto* container = pod->add_containers();
      container->set_name(a.container);
      auto* devices = container->add_devices();
      devices->set_resource_name(a.resource_name);
      for (const auto& id : a.device_ids) devices->add_device_ids(id);
    }
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::vector<DeviceAssignment> assignments_;
};

FakePodResources::FakePodResources(const std::string& socket_path) : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) throw std::runtime_error("fake PodResources cannot serve " + socket_path);
}

FakePodResources::~FakePodResources() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
}

void FakePodResources::set_assignments(std::vector<DeviceAssignment> assignments) {
  service_->set(std::move(assignments));
}

}  // namespace tpustack::fakes
