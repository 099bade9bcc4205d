#pragma once

#include <string>

namespace tpustack::e2e {

struct HttpReply {
  int status = 0;  // 0: nothing answered
  std::string body;
};

// One request to `base_url` + `path`, JSON body when given; a connection failure is status 0, never a throw,
// because the programs of the story are restarted on purpose.
HttpReply http_call(const std::string& method, const std::string& base_url, const std::string& path,
                    const std::string& json_body = "");

}  // namespace tpustack::e2e
