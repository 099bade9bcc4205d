#include "common/json/parse_json.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace tpustack::json {
namespace {

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string error_of(std::string_view text, JsonLimits limits = {}) {
  auto parsed = parse_json(text, "TestArgs", limits);
  return parsed ? "" : parsed.error().message;
}

TEST(ParseJson, ReadsDocumentsWithinTheLimit) {
  EXPECT_EQ(parse_json(R"({"a":[1,{"b":null}]})", "TestArgs").value(),
            nlohmann::json::parse(R"({"a":[1,{"b":null}]})"));
  EXPECT_EQ(parse_json(nested(64), "TestArgs")->dump(), nested(64));
  EXPECT_EQ(parse_json("7", "TestArgs").value(), 7);
}

TEST(ParseJson, StopsAtTheFirstContainerTooDeepWithoutBuildingIt) {
  EXPECT_EQ(error_of(nested(65)), "TestArgs is nested deeper than 64 levels");
  EXPECT_EQ(error_of(nested(3), {.max_depth = 2}), "TestArgs is nested deeper than 2 levels");
  // A million levels, which would overflow the stack when copied or destroyed, is refused at once.
  auto start = std::chrono::steady_clock::now();
  std::string objects;
  for (int i = 0; i < 1'000'000; ++i) objects += R"({"a":)";
  EXPECT_EQ(error_of(objects), "TestArgs is nested deeper than 64 levels");
  EXPECT_EQ(error_of(std::string(1'000'000, '[')), "TestArgs is nested deeper than 64 levels");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(ParseJson, NamesTheDocumentAndTheByteOfASyntaxError) {
  EXPECT_EQ(error_of(R"({"Pod":)"),
            "TestArgs is not valid JSON: syntax error while parsing value - unexpected end of input; expected '[', "
            "'{', or a literal (byte 8)");
  EXPECT_EQ(error_of(""),
            "TestArgs is not valid JSON: syntax error while parsing value - unexpected end of input; expected '[', "
            "'{', or a literal (byte 1)");
  EXPECT_NE(error_of("{} x").find("TestArgs is not valid JSON"), std::string::npos);
  // The message goes into JSON replies: bytes that are not ASCII are not quoted back.
  auto message = error_of("\xff\xfe");
  EXPECT_NE(message.find("TestArgs is not valid JSON"), std::string::npos);
  for (char c : message) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << message;
}

// A reader of one's own gets the same limit.
struct CountingReader : nlohmann::json_sax<nlohmann::json> {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return ++numbers > 0; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  int numbers = 0;
};

TEST(ParseJson, LimitsASaxReaderOfOnesOwn) {
  CountingReader reader;
  EXPECT_TRUE(parse_json_sax("[1,[2,[3]]]", "TestArgs", reader));
  EXPECT_EQ(reader.numbers, 3);
  auto deep = parse_json_sax(nested(100), "TestArgs", reader);
  ASSERT_FALSE(deep) << "no error";
  EXPECT_EQ(deep.error().message, "TestArgs is nested deeper than 64 levels");
}

}  // namespace
}  // namespace tpustack::json
