#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::inferd::jinja {

struct Statement;  // inferd/jinja/syntax_tree.h

// A chat template (tokenizer_config.json's `chat_template`), parsed once when its model loads and rendered for
// each request as Hugging Face's apply_chat_template renders it with jinja2: trim_blocks and lstrip_blocks on,
// break and continue, {% generation %}, tojson as json.dumps without ASCII escapes, raise_exception and
// strftime_now. Only the part of Jinja that chat templates use is here; parse refuses, naming the line, any
// template that reaches beyond it. Rendering is thread-safe: the parsed template is never changed.
class ChatTemplate {
 public:
  static Result<ChatTemplate> parse(std::string_view source);

  // The prompt for these variables, a JSON object: messages, tools, add_generation_prompt, bos_token and whatever
  // else the caller passes (objects keep their key order, which tojson shows). `now` is the local time that
  // strftime_now formats. An Error for what jinja2 would raise: an undefined value used, a type error, or the
  // template's raise_exception, whose message is passed on as the template words it.
  Result<std::string> render(const nlohmann::ordered_json& variables, const std::tm& now) const;

 private:
  explicit ChatTemplate(std::shared_ptr<const std::vector<Statement>> body) : body_(std::move(body)) {}

  std::shared_ptr<const std::vector<Statement>> body_;
};

}  // namespace tpustack::inferd::jinja
