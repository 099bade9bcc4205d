#pragma once

#include <string>

#include "common/http/http_server.h"
#include "extender/admission/pod_mutation.h"

namespace tpustack::admission {

struct WebhookListenerOptions {
  std::string listen = ":8443";
  PodMutationSettings mutation;
};

// The webhook's HTTPS surface: POST /mutate (AdmissionReview admission.k8s.io/v1 in and out; a body that is not
// one gets 400 with the reason) and GET /healthz. A failed mutation still answers allowed with no patch: the pod
// is created as it was sent (the webhook's failurePolicy is Ignore too).
class WebhookListener {
 public:
  WebhookListener(WebhookListenerOptions options, const http::TlsCertificate& certificate);

  // An Error when the address cannot be bound (or, over TLS, the certificate used).
  Result<void> start() { return server_.start(); }
  void stop() { server_.stop(); }
  int port() const { return server_.port(); }
  // For connections accepted from now on; an Error, keeping the old one, when it cannot be used.
  Result<void> use_certificate(const http::TlsCertificate& certificate) { return server_.use_certificate(certificate); }

 private:
  http::Response serve(const http::Request& request) const;
  http::Response mutate(const http::Request& request) const;

  PodMutationSettings mutation_;
  http::HttpServer server_;  // last: stopped first
};

}  // namespace tpustack::admission
