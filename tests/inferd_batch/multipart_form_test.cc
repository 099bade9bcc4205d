#include "inferd/batch_jobs/multipart_form.h"

#include <gtest/gtest.h>

namespace tpustack::inferd::batch_jobs {
namespace {

// What undici's FormData (Node's fetch, the OpenAI Node SDK) sends for client.files.create.
const std::string boundary = "----formdata-undici-0123456789";
const std::string sdk_body =
    "------formdata-undici-0123456789\r\n"
    "Content-Disposition: form-data; name=\"purpose\"\r\n\r\n"
    "batch\r\n"
    "------formdata-undici-0123456789\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "{\"a\":1}\r\n{\"b\":2}\n\r\n"
    "------formdata-undici-0123456789--\r\n";

TEST(MultipartForm, FindsTheBoundaryInTheContentType) {
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=" + boundary).value(), boundary);
  EXPECT_EQ(form_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b;c\"").value(), "a b;c");
  EXPECT_FALSE(form_boundary("application/json"));
  EXPECT_FALSE(form_boundary("multipart/form-data"));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary=" + std::string(71, 'x')));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary=\"unclosed"));
}

TEST(MultipartForm, ReadsFieldsAndFilesAsTheSdkSendsThem) {
  auto parts = parse_form(sdk_body, boundary);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "purpose");
  EXPECT_FALSE((*parts)[0].has_filename);
  EXPECT_EQ((*parts)[0].data, "batch");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "in.jsonl");
  EXPECT_EQ((*parts)[1].content_type, "application/octet-stream");
  // The data is every byte up to the delimiter's CRLF, line breaks of its own included.
  EXPECT_EQ((*parts)[1].data, "{\"a\":1}\r\n{\"b\":2}\n");
}

TEST(MultipartForm, KeepsBytesThatOnlyLookLikeTheBoundary) {
  const std::string body =
      "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\\\"y\"\r\n\r\n"
      "--b not at a line start\r\n--bb\r\n\r\n--b--";
  auto parts = parse_form(body, "b");
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].filename, "x\"y");
  EXPECT_EQ((*parts)[0].data, "--b not at a line start\r\n--bb\r\n");
}

TEST(MultipartForm, RefusesMalformedAndHostileBodies) {
  const std::string part = "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata";
  EXPECT_FALSE(parse_form("", "b"));
  EXPECT_FALSE(parse_form("no boundary at all", "b"));
  EXPECT_FALSE(parse_form(part, "b"));                 // never closed
  EXPECT_FALSE(parse_form(part + "\r\n--b", "b"));     // a delimiter with nothing after it
  EXPECT_FALSE(parse_form(part + "\r\n--bxyz", "b"));  // a delimiter without its line break
  EXPECT_FALSE(parse_form("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n", "b"));  // headers never end
  EXPECT_FALSE(parse_form("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b"));      // no disposition
  EXPECT_FALSE(parse_form("--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--b--", "b"));
  EXPECT_FALSE(parse_form("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b"));  // no name
  EXPECT_FALSE(parse_form("--b\r\nContent-Disposition: form-data; name=\"f\r\n\r\nx\r\n--b--", "b"));
  EXPECT_FALSE(parse_form("--b\r\nno colon here\r\n\r\nx\r\n--b--", "b"));
  EXPECT_FALSE(parse_form("--b\r\n\r\nx\r\n--b--", "b"));  // a part without headers has no name
  // Headers that never end within the bound, and more parts than any upload needs.
  EXPECT_FALSE(parse_form("--b\r\nX: " + std::string(100000, 'a') + "\r\n\r\nx\r\n--b--", "b"));
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n";
  EXPECT_FALSE(parse_form(many + "--b--", "b"));
}

TEST(MultipartForm, EveryPrefixOfAValidBodyIsRefusedOrParsedWithoutCrashing) {
  for (size_t length = 0; length < sdk_body.size(); ++length) {
    auto parts = parse_form(std::string_view(sdk_body).substr(0, length), boundary);
    if (parts) {
      EXPECT_EQ(parts->size(), 2u) << length;  // only once the closing delimiter is whole
    }
  }
}

}  // namespace
}  // namespace tpustack::inferd::batch_jobs
