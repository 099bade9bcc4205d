#include "inferd/batch_jobs/multipart_form.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace tpustack::inferd::batch_jobs {

namespace {

constexpr size_t max_parts = 64;
constexpr size_t max_part_header_bytes = 8 << 10;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trimmed(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// `; key=value; key="quoted \" value"` parameters after a header's first value, keys lower-cased; nullopt when a
// quoted string is left open.
std::optional<std::vector<std::pair<std::string, std::string>>> header_parameters(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> parameters;
  size_t at = text.find(';');
  while (at != std::string_view::npos && at < text.size()) {
    ++at;  // past ';'
    const size_t equals = text.find('=', at);
    if (equals == std::string_view::npos) break;
    std::string key = lower(trimmed(text.substr(at, equals - at)));
    size_t value_at = equals + 1;
    while (value_at < text.size() && (text[value_at] == ' ' || text[value_at] == '\t')) ++value_at;
    std::string value;
    if (value_at < text.size() && text[value_at] == '"') {
      size_t i = value_at + 1;
      bool closed = false;
      for (; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          value += text[++i];
        } else if (text[i] == '"') {
          closed = true;
          break;
        } else {
          value += text[i];
        }
      }
      if (!closed) return std::nullopt;
      at = text.find(';', i + 1);
    } else {
      at = text.find(';', value_at);
      value = std::string(trimmed(text.substr(value_at, at == std::string_view::npos ? text.npos : at - value_at)));
    }
    parameters.emplace_back(std::move(key), std::move(value));
  }
  return parameters;
}

// The part's headers (text before the blank line) into `part`.
Result<void> read_part_headers(std::string_view headers, FormPart& part) {
  bool disposition = false;
  size_t start = 0;
  while (start < headers.size()) {
    size_t end = headers.find("\r\n", start);
    if (end == std::string_view::npos) end = headers.size();
    const std::string_view line = headers.substr(start, end - start);
    start = end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Error{"a part's header line has no ':'"};
    const std::string name = lower(trimmed(line.substr(0, colon)));
    const std::string_view value = trimmed(line.substr(colon + 1));
    if (name == "content-type") {
      part.content_type = std::string(value);
    } else if (name == "content-disposition") {
      if (lower(trimmed(value.substr(0, value.find(';')))) != "form-data") {
        return Error{"a part's Content-Disposition is not form-data"};
      }
      auto parameters = header_parameters(value);
      if (!parameters) return Error{"a part's Content-Disposition has an unclosed quoted string"};
      disposition = true;
      for (auto& [key, text] : *parameters) {
        if (key == "name") {
          part.name = std::move(text);
        } else if (key == "filename") {
          part.filename = std::move(text);
          part.has_filename = true;
        }
      }
    }
  }
  if (!disposition) return Error{"a part has no Content-Disposition"};
  if (part.name.empty()) return Error{"a part's Content-Disposition has no name"};
  return {};
}

// Where the delimiter `delimiter` next ends a part at or after `from`: only where "--" (the close) or optional
// whitespace and CRLF follows it, since only there is it a delimiter (a line "--boundaryX" is data); npos if nowhere.
size_t find_delimiter(std::string_view body, std::string_view delimiter, size_t from) {
  for (size_t at = body.find(delimiter, from); at != std::string_view::npos; at = body.find(delimiter, at + 1)) {
    size_t after = at + delimiter.size();
    if (body.substr(after).starts_with("--")) return at;
    while (after < body.size() && (body[after] == ' ' || body[after] == '\t')) ++after;
    if (body.substr(after).starts_with("\r\n")) return at;
  }
  return std::string_view::npos;
}

}  // namespace

Result<std::string> form_boundary(std::string_view content_type) {
  const std::string media = lower(trimmed(content_type.substr(0, content_type.find(';'))));
  if (media != "multipart/form-data") {
    return Error{"the body must be multipart/form-data, not '" + std::string(trimmed(content_type)) + "'"};
  }
  auto parameters = header_parameters(content_type);
  if (parameters) {
    for (const auto& [key, value] : *parameters) {
      if (key != "boundary") continue;
      if (value.empty() || value.size() > 70) return Error{"the multipart boundary must have 1 to 70 characters"};
      return value;
    }
  }
  return Error{"the multipart/form-data Content-Type names no boundary"};
}

Result<std::vector<FormPart>> parse_form(std::string_view body, std::string_view boundary) {
  const std::string dash_boundary = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash_boundary;
  // The first delimiter may open the body, without the CRLF the others have.
  size_t at;
  if (body.starts_with(dash_boundary)) {
    at = dash_boundary.size();
  } else {
    const size_t found = body.find(delimiter);
    if (found == std::string_view::npos) return Error{"the body has no multipart boundary"};
    at = found + delimiter.size();
  }
  std::vector<FormPart> parts;
  while (true) {
    // After a delimiter: "--" closes the body; otherwise optional whitespace, then CRLF and a part.
    if (body.substr(at).starts_with("--")) return parts;
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (!body.substr(at).starts_with("\r\n")) return Error{"a multipart boundary is not followed by a line break"};
    at += 2;
    if (parts.size() == max_parts) return Error{"the body has more than " + std::to_string(max_parts) + " parts"};
    const size_t headers_end = body.find("\r\n\r\n", at);
    // A part without headers starts with the blank line itself.
    const bool no_headers = body.substr(at).starts_with("\r\n");
    if (!no_headers && (headers_end == std::string_view::npos || headers_end - at > max_part_header_bytes)) {
      return Error{"a part's headers do not end with a blank line within " + std::to_string(max_part_header_bytes) +
                   " bytes"};
    }
    FormPart part;
    if (auto read = read_part_headers(no_headers ? std::string_view() : body.substr(at, headers_end - at), part);
        !read) {
      return read.error();
    }
    const size_t data_start = no_headers ? at + 2 : headers_end + 4;
    const size_t data_end = find_delimiter(body, delimiter, data_start);
    if (data_end == std::string_view::npos) return Error{"the body ends inside a part: no closing boundary"};
    part.data = body.substr(data_start, data_end - data_start);
    parts.push_back(std::move(part));
    at = data_end + delimiter.size();
  }
}

}  // namespace tpustack::inferd::batch_jobs
