// OpenAI's and TGI's text-generation bodies read into requests, and the answers and server-sent events written
// from outcomes (inferd/server/generation_wire.h), without a model.
#include "inferd/server/generation_wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/result_matchers.h"

namespace tpustack::inferd::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using tpustack::testing::value_of;

GenerationRequest read(const json& body, GenerationApi api, bool stream_route = false) {
  auto request = generation_request(body, body.dump(), api, stream_route);
  EXPECT_TRUE(static_cast<bool>(request)) << (request ? "" : request.error().message);
  return request ? *request : GenerationRequest{};
}

RequestError refusal(const json& body, GenerationApi api) {
  auto request = generation_request(body, body.dump(), api, false);
  EXPECT_FALSE(static_cast<bool>(request));
  return request ? RequestError{} : request.error();
}

TEST(GenerationWire, OpenAiSamplingFieldsGoOverTheModelsDefaults) {
  const auto request = read({{"prompt", "hi"},
                             {"temperature", 0.5},
                             {"top_k", 7},
                             {"seed", 42},
                             {"stop", "END"},
                             {"max_tokens", 9},
                             {"stream", true},
                             {"stream_options", {{"include_usage", true}}}},
                            GenerationApi::completions);
  EXPECT_EQ(request.prompt, "hi");
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
  EXPECT_EQ(request.sampling.max_tokens, 9u);
  generation::SamplingParams defaults;
  defaults.top_p = 0.9f;
  defaults.temperature = 0.7f;
  const auto params = request.sampling.over(defaults);
  EXPECT_FLOAT_EQ(params.temperature, 0.5f);
  EXPECT_FLOAT_EQ(params.top_p, 0.9f);  // the model's, as the request left it out
  EXPECT_EQ(params.top_k, 7);
  EXPECT_EQ(params.seed, 42u);
  EXPECT_EQ(params.stop, std::vector<std::string>{"END"});
}

TEST(GenerationWire, ChatMessagesKeepTheirKeyOrderAndTextPartsAreJoined) {
  const std::string raw = R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
      {"type": "text", "text": "b"}]}], "tools": [{"type": "function", "function": {"name": "f", "b": 1, "a": 2}}],
      "chat_template_kwargs": {"enable_thinking": false}, "max_completion_tokens": 5})";
  const auto request = value_of(generation_request(json::parse(raw), raw, GenerationApi::chat, false));
  EXPECT_EQ(request.chat["messages"][0]["content"], "a\nb");
  EXPECT_EQ(request.chat["tools"].dump(), R"([{"type":"function","function":{"name":"f","b":1,"a":2}}])");
  EXPECT_EQ(request.chat["enable_thinking"], false);
  EXPECT_EQ(request.sampling.max_tokens, 5u);
}

TEST(GenerationWire, RefusalsNameTheField) {
  EXPECT_EQ(refusal({{"prompt", 3}}, GenerationApi::completions).param, "prompt");
  EXPECT_EQ(refusal({{"prompt", "x"}, {"n", 3}}, GenerationApi::completions).param, "n");
  EXPECT_EQ(refusal({{"prompt", "x"}, {"stop", {1}}}, GenerationApi::completions).param, "stop");
  EXPECT_EQ(refusal({{"prompt", "x"}, {"logprobs", 21}}, GenerationApi::completions).param, "logprobs");
  EXPECT_EQ(
      refusal({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"top_logprobs", 2}}, GenerationApi::chat).param,
      "top_logprobs");
  EXPECT_EQ(refusal({{"messages", {{{"content", "no role"}}}}}, GenerationApi::chat).param, "messages[0]");
  EXPECT_EQ(
      refusal({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}, GenerationApi::chat).param,
      "messages[0].content");
  const RequestError tgi = refusal({{"inputs", ""}}, GenerationApi::tgi);
  EXPECT_EQ(tgi.status, 422);
  EXPECT_EQ(tgi.param, "inputs");
}

TEST(GenerationWire, TgiIsGreedyUnlessItAsksToSample) {
  EXPECT_TRUE(read({{"inputs", "x"}}, GenerationApi::tgi).sampling.greedy);
  EXPECT_FALSE(read({{"inputs", "x"}, {"parameters", {{"do_sample", true}}}}, GenerationApi::tgi).sampling.greedy);
  EXPECT_FALSE(read({{"inputs", "x"}, {"parameters", {{"top_k", 5}}}}, GenerationApi::tgi).sampling.greedy);
  EXPECT_EQ(read({{"inputs", "x"}, {"parameters", {{"max_new_tokens", 3}}}}, GenerationApi::tgi).sampling.max_tokens,
            3u);
}

GenerationOutcome outcome() {
  GenerationOutcome out;
  out.id = "chatcmpl-1";
  out.created = 1700000000;
  out.model = "m";
  out.text = "Hello";
  out.finish = generation::FinishReason::stop;
  out.prompt_tokens = 4;
  out.completion_tokens = 2;
  return out;
}

TEST(GenerationWire, WholeAnswersHaveOpenAisAndTgisFields) {
  const auto chat =
      generation_answer(read({{"messages", {{{"role", "user"}, {"content", "x"}}}}}, GenerationApi::chat), outcome());
  EXPECT_EQ(chat.dump(),
            R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"stop"}],)"
            R"("usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})");
  GenerationOutcome stopped = outcome();
  stopped.stop_reason = std::string("END");
  const auto tgi =
      generation_answer(read({{"inputs", "x"}, {"parameters", {{"details", true}}}}, GenerationApi::tgi), stopped);
  EXPECT_EQ(tgi["details"]["finish_reason"], "stop_sequence");
  EXPECT_EQ(generation_answer(read({{"inputs", "x"}, {"parameters", {{"details", true}}}}, GenerationApi::tgi),
                              outcome())["details"]["finish_reason"],
            "eos_token");
}

TEST(GenerationWire, LogprobsComeInEachApisShape) {
  GenerationOutcome out = outcome();
  out.tokens = {{72,
                 "He",
                 "He",
                 false,
                 -0.5f,
                 {{72, "He", "He", false, -0.5f, {}}, {9, "\xEF\xBF\xBD", "\xE2", false, -2.0f, {}}}},
                {108, "llo", "llo", false, -0.25f, {}}};
  const auto completion = generation_answer(read({{"prompt", "x"}, {"logprobs", 2}}, GenerationApi::completions), out);
  EXPECT_EQ(completion["choices"][0]["logprobs"].dump(),
            R"({"tokens":["He","llo"],"token_logprobs":[-0.5,-0.25],"top_logprobs":[{"He":-0.5,")"
            "\xEF\xBF\xBD"
            R"(":-2.0},{}],)"
            R"("text_offset":[0,2]})");
  const auto chat = generation_answer(
      read({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"logprobs", true}, {"top_logprobs", 2}},
           GenerationApi::chat),
      out);
  const auto& first = chat["choices"][0]["logprobs"]["content"][0];
  EXPECT_EQ(first["token"], "He");
  EXPECT_EQ(first["bytes"], nlohmann::ordered_json({72, 101}));
  EXPECT_EQ(first["top_logprobs"][1]["bytes"], nlohmann::ordered_json({0xE2}));  // a partial character's byte
  EXPECT_TRUE(generation_answer(read({{"messages", {{{"role", "user"}, {"content", "x"}}}}}, GenerationApi::chat),
                                out)["choices"][0]["logprobs"]
                  .is_null());
  // A stream's chunk carries the logprobs of its own tokens, offsets counted from the completion's start.
  generation::GenerationUpdate update;
  update.text = "llo";
  const std::string chunk = generation_event(
      read({{"prompt", "x"}, {"logprobs", 0}, {"stream", true}}, GenerationApi::completions), out, update, 1, false);
  EXPECT_THAT(
      chunk,
      HasSubstr(R"("logprobs":{"tokens":["llo"],"token_logprobs":[-0.25],"top_logprobs":[{}],"text_offset":[2]})"));
  const auto tgi =
      generation_answer(read({{"inputs", "x"}, {"parameters", {{"details", true}}}}, GenerationApi::tgi), out);
  EXPECT_EQ(tgi["details"]["tokens"][1].dump(), R"({"id":108,"text":"llo","logprob":-0.25,"special":false})");
}

TEST(GenerationWire, AChatStreamStartsWithTheRoleAndEndsWithUsageAndDone) {
  const auto request = read({{"messages", {{{"role", "user"}, {"content", "x"}}}},
                             {"stream", true},
                             {"stream_options", {{"include_usage", true}}}},
                            GenerationApi::chat);
  generation::GenerationUpdate update;
  update.text = "Hel";
  const std::string first = generation_event(request, outcome(), update, 0, true);
  EXPECT_THAT(first, ::testing::StartsWith(R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk")"));
  EXPECT_THAT(first, HasSubstr(R"("delta":{"role":"assistant","content":""})"));
  EXPECT_THAT(first, HasSubstr(R"("delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"usage":null})"));
  update.text = "";
  update.finish = generation::FinishReason::length;
  EXPECT_THAT(generation_event(request, outcome(), update, 0, false),
              HasSubstr(R"("delta":{},"logprobs":null,"finish_reason":"length"})"));
  const std::string end = generation_stream_end(request, outcome());
  EXPECT_THAT(end, HasSubstr(R"("choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})"));
  EXPECT_THAT(end, ::testing::EndsWith("data: [DONE]\n\n"));
}

}  // namespace
}  // namespace tpustack::inferd::server
