// A provisioner that cannot take its Lease says so on tpu-extender's /readyz and in its leader metric.
#include <cpprest/http_client.h>
#include <gtest/gtest.h>

#include "extender/provisioner/dry_run_provider.h"
#include "extender/provisioner/provisioning_controller.h"
#include "extender/service/extender_runtime.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/provisioning/fake_cluster.h"
#include "tests/support/free_port.h"

namespace tpustack::provisioning {
namespace {

using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::string body;
};

Reply get(const std::string& base, const std::string& path) {
  web::http::client::http_client client(base);
  auto response = client.request(web::http::methods::GET, path).get();
  return {response.status_code(), response.extract_utf8string(true).get()};
}

TEST(ProvisionerReadiness, ALeaseNamespaceThatDoesNotExistShowsOnReadyzAndInTheLeaderMetric) {
  fakes::FakeApiServer api;
  api.start();
  // What kube-apiserver answers for a Lease in a namespace that does not exist.
  const std::string lease_path = "/apis/coordination.k8s.io/v1/namespaces/nowhere/leases";
  api.inject({"POST", lease_path, 404,
              R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound",)"
              R"("message":"namespaces \"nowhere\" not found","code":404})"});

  kube::ClusterConfig cluster;
  cluster.server = api.url();
  extender::ServeOptions serve;
  serve.verbs.listen = "127.0.0.1:" + std::to_string(tpustack::testing::free_port());
  serve.metrics_addr = "127.0.0.1:" + std::to_string(tpustack::testing::free_port());
  extender::ExtenderRuntime runtime(cluster, serve);
  runtime.start();
  DryRunProvider provider;
  ControllerSettings settings;
  settings.resync = 50ms;
  settings.lease = LeaseSettings{"nowhere", "tpu-extender-provisioner", "replica-a", 1s};
  ProvisioningController controller(runtime.client(), provider, settings, runtime.registry());
  runtime.set_readiness_check([&] { return controller.unready_reason(); });
  controller.start();

  const std::string base = "http://" + serve.metrics_addr;
  Reply readyz;
  ASSERT_TRUE(testing::eventually(
      [&] {
        readyz = get(base, "/readyz");
        return readyz.body.find("cannot take Lease") != std::string::npos;
      },
      10s))
      << readyz.body;
  EXPECT_EQ(readyz.status, 503);
  EXPECT_NE(readyz.body.find("cannot take Lease nowhere/tpu-extender-provisioner"), std::string::npos) << readyz.body;
  EXPECT_NE(readyz.body.find("404 NotFound: namespaces \"nowhere\" not found"), std::string::npos) << readyz.body;
  EXPECT_NE(get(base, "/metrics").body.find("tpustack_provisioner_leader 0"), std::string::npos);
  // What the Deployment probes keeps to the verbs: the scheduler keeps its extender.
  EXPECT_EQ(get(base, "/readyz/verbs").status, 200);

  // The namespace is created: this replica leads, and is ready.
  api.clear_faults();
  ASSERT_TRUE(testing::eventually([&] { return get(base, "/readyz").status == 200; }, 10s));
  EXPECT_TRUE(controller.leading());
  EXPECT_NE(get(base, "/metrics").body.find("tpustack_provisioner_leader 1"), std::string::npos);

  runtime.set_readiness_check(nullptr);
  controller.stop();
  runtime.stop();
}

}  // namespace
}  // namespace tpustack::provisioning
