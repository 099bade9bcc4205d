#include "tests/fakes/kubelet/fake_kubelet.h"

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

namespace tpustack::fakes {
namespace {

namespace fs = std::filesystem;

constexpr auto kDialTimeout = std::chrono::seconds(10);  // the kubelet's connectClient timeout

template <class Predicate>
bool wait_until(std::mutex& mu, std::condition_variable& cv, std::chrono::milliseconds timeout, Predicate p) {
  std::unique_lock lock(mu);
  return cv.wait_for(lock, timeout, p);
}

}  // namespace

std::string health_of(const DeviceList& devices, const std::string& id) {
  for (const auto& device : devices) {
    if (device.id == id) return device.health;
  }
  return {};
}

class FakeKubelet::RegistrationService final : public v1beta1::Registration::Service {
 public:
  explicit RegistrationService(FakeKubelet& kubelet) : kubelet_(kubelet) {}

  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* request, v1beta1::Empty*) override {
    // The kubelet's checks, in its order.
    if (request->version() != "v1beta1") {
      return {grpc::StatusCode::UNKNOWN, "unsupported device plugin API version " + request->version()};
    }
    if (request->resource_name().find('/') == std::string::npos ||
        request->resource_name().starts_with("kubernetes.io/")) {
      return {grpc::StatusCode::UNKNOWN, "invalid extended resource name " + request->resource_name()};
    }
    PluginRegistration registration{request->version(), request->endpoint(), request->resource_name(),
                                    request->options().get_preferred_allocation_available(),
                                    request->options().pre_start_required()};
    try {
      kubelet_.connect_plugin(registration);
    } catch (const std::exception& e) {
      return {grpc::StatusCode::UNKNOWN, e.what()};
    }
    return grpc::Status::OK;
  }

 private:
  FakeKubelet& kubelet_;
};

FakeKubelet::FakeKubelet(std::string plugin_dir) : plugin_dir_(std::move(plugin_dir)) { start(); }

FakeKubelet::~FakeKubelet() { stop(); }

void FakeKubelet::start() {
  fs::create_directories(plugin_dir_);
  service_ = std::make_unique<RegistrationService>(*this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path(), grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) throw std::runtime_error("fake kubelet cannot serve " + socket_path());
}

void FakeKubelet::stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
    server_.reset();
    service_.reset();
  }
  drop_plugin();
  std::error_code ec;
  fs::remove(socket_path(), ec);
}

void FakeKubelet::restart() {
  stop();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(plugin_dir_, ec)) {
    if (!entry.is_directory(ec)) fs::remove(entry.path(), ec);
  }
  start();
}

void FakeKubelet::drop_plugin() {
  std::unique_ptr<grpc::ClientContext> context;
  std::thread reader;
  {
    std::lock_guard lock(mu_);
    if (stream_context_) stream_context_->TryCancel();
    context = std::move(stream_context_);
    reader = std::move(stream_reader_);
  }
  if (reader.joinable()) reader.join();
  std::lock_guard lock(mu_);
  stub_.reset();
  channel_.reset();
}

void FakeKubelet::connect_plugin(const PluginRegistration& registration) {
  // Two plugins registering at once (two instances serving) would otherwise both replace the stream reader.
  std::lock_guard connecting(connect_mu_);
  drop_plugin();
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
  auto channel = grpc::CreateCustomChannel("unix:" + plugin_dir_ + "/" + registration.endpoint,
                                           grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kDialTimeout)) {
    throw std::runtime_error("cannot dial plugin endpoint " + registration.endpoint);
  }
  auto stub = v1beta1::DevicePlugin::NewStub(channel);
  v1beta1::DevicePluginOptions options;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kDialTimeout);
    const auto status = stub->GetDevicePluginOptions(&context, v1beta1::Empty(), &options);
    if (!status.ok()) throw std::runtime_error("GetDevicePluginOptions failed: " + status.error_message());
  }
  auto context = std::make_unique<grpc::ClientContext>();
  auto* raw_context = context.get();
  auto* raw_stub = stub.get();
  std::lock_guard lock(mu_);
  channel_ = std::move(channel);
  stub_ = std::move(stub);
  stream_context_ = std::move(context);
  ++registrations_;
  last_registration_ = registration;
  stream_reader_ = std::thread([this, raw_context, raw_stub] {
    auto reader = raw_stub->ListAndWatch(raw_context, v1beta1::Empty());
    v1beta1::ListAndWatchResponse response;
    while (reader->Read(&response)) {
      DeviceList list;
      for (const auto& d : response.devices()) {
        AdvertisedDevice device{d.id(), d.health(), {}};
        for (const auto& node : d.topology().nodes()) device.numa_nodes.push_back(node.id());
        list.push_back(std::move(device));
      }
      {
        std::lock_guard lock(mu_);
        devices_ = std::move(list);
        ++device_updates_;
      }
      changed_.notify_all();
    }
    reader->Finish();
  });
  changed_.notify_all();
}

int FakeKubelet::registrations() const {
  std::lock_guard lock(mu_);
  return registrations_;
}

bool FakeKubelet::wait_for_registrations(int n, std::chrono::milliseconds timeout) const {
  return wait_until(mu_, changed_, timeout, [&] { return registrations_ >= n; });
}

PluginRegistration FakeKubelet::last_registration() const {
  std::lock_guard lock(mu_);
  return last_registration_;
}

DeviceList FakeKubelet::devices() const {
  std::lock_guard lock(mu_);
  return devices_;
}

int FakeKubelet::device_updates() const {
  std::lock_guard lock(mu_);
  return device_updates_;
}

bool FakeKubelet::wait_for_devices(const std::function<bool(const DeviceList&)>& predicate,
                                   std::chrono::milliseconds timeout) const {
  return wait_until(mu_, changed_, timeout, [&] { return device_updates_ > 0 && predicate(devices_); });
}

v1beta1::DevicePlugin::Stub* FakeKubelet::plugin() {
  std::lock_guard lock(mu_);
  if (!stub_) throw std::logic_error("no device plugin has registered with the fake kubelet");
  return stub_.get();
}

grpc::Status FakeKubelet::allocate(const std::vector<std::string>& ids, v1beta1::ContainerAllocateResponse* out) {
  v1beta1::AllocateRequest request;
  auto* container = request.add_container_requests();
  for (const auto& id : ids) container->add_devices_ids(id);
  v1beta1::AllocateResponse response;
  grpc::ClientContext context;  // the kubelet sets no deadline on Allocate
  const auto status = plugin()->Allocate(&context, request, &response);
  if (status.ok() && response.container_responses_size() > 0) *out = response.container_responses(0);
  return status;
}

grpc::Status FakeKubelet::preferred_allocation(const std::vector<std::string>& available,
                                               const std::vector<std::string>& must_include, int size,
                                               std::vector<std::string>* out) {
  v1beta1::PreferredAllocationRequest request;
  auto* container = request.add_container_requests();
  for (const auto& id : available) container->add_available_deviceids(id);
  for (const auto& id : must_include) container->add_must_include_deviceids(id);
  container->set_allocation_size(size);
  v1beta1::PreferredAllocationResponse response;
  grpc::ClientContext context;
  const auto status = plugin()->GetPreferredAllocation(&context, request, &response);
  if (status.ok() && response.container_responses_size() > 0) {
    const auto& ids = response.container_responses(0).deviceids();
    out->assign(ids.begin(), ids.end());
  }
  return status;
}

grpc::Status FakeKubelet::options(v1beta1::DevicePluginOptions* out) {
  grpc::ClientContext context;
  return plugin()->GetDevicePluginOptions(&context, v1beta1::Empty(), out);
}

grpc::Status FakeKubelet::pre_start(const std::vector<std::string>& ids) {
  v1beta1::PreStartContainerRequest request;
  for (const auto& id : ids) request.add_devices_ids(id);
  v1beta1::PreStartContainerResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return plugin()->PreStartContainer(&context, request, &response);
}

}  // namespace tpustack::fakes
