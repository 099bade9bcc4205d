#include "tests/e2e/http_call.h"

#include <cpprest/http_client.h>

namespace tpustack::e2e {

HttpReply http_call(const std::string& method, const std::string& base_url, const std::string& path,
                    const std::string& json_body) {
  web::http::client::http_client_config config;
  config.set_timeout(std::chrono::seconds(30));
  HttpReply reply;
  try {
    web::http::client::http_client client(base_url, config);
    web::http::http_request request(method);
    request.set_request_uri(path);
    if (!json_body.empty()) request.set_body(json_body, "application/json");
    web::http::http_response response = client.request(request).get();
    reply.status = response.status_code();
    reply.body = response.extract_utf8string(true).get();
  } catch (const std::exception&) {
    reply.status = 0;
  }
  return reply;
}

}  // namespace tpustack::e2e
