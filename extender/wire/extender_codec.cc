#include "extender/wire/extender_codec.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/json/parse_json.h"

namespace tpustack::extender::wire {

namespace {

bool same_key(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The member `key` in any letter case, or nullptr; null values count as absent. Json is const or not.
template <class Json>
Json* field(Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  for (auto i = object.begin(); it == object.end() && i != object.end(); ++i) {
    if (same_key(i.key(), key)) it = i;
  }
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// Every verb body is read through here or parse_json_sax, so no body nests deeper than json::JsonLimits.
Result<nlohmann::json> parse_object(std::string_view body, std::string_view what) {
  auto document = json::parse_json(body, what);
  if (document && !document->is_object()) return Error{std::string(what) + " must be a JSON object"};
  return document;
}

// The member `key` when present and not null (else nullptr), which must then be of the kind `is` accepts, as
// Go's decoder requires of a struct field; `name` is the field's path for the error.
Result<const nlohmann::json*> checked_field(const nlohmann::json& object, std::string_view key,
                                            bool (nlohmann::json::*is)() const noexcept, std::string_view kind,
                                            const std::string& name) {
  const auto* value = field(object, key);
  if (value && !(value->*is)()) return Error{name + " must be " + std::string(kind)};
  return value;
}

Result<std::string> string_field(const nlohmann::json& object, std::string_view key, std::string_view what) {
  const auto* value = field(object, key);
  if (!value || !value->is_string() || value->get_ref<const std::string&>().empty()) {
    return Error{std::string(what) + " has no " + std::string(key)};
  }
  return value->get<std::string>();
}

void append_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t clean = 0;  // start of the run of characters that need no escaping
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + clean, i - clean);
    clean = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    }
  }
  out.append(text.data() + clean, text.size() - clean);
  out += '"';
}

void append_reasons(std::string& out, const std::vector<std::pair<std::string_view, Reason>>& reasons) {
  // Thousands of nodes share a handful of reasons, in runs: escape a reason once per run.
  const std::string* escaped_reason = nullptr;
  std::string escaped;
  out += '{';
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    if (i) out += ',';
    append_string(out, reasons[i].first);
    out += ':';
    if (reasons[i].second.get() != escaped_reason) {
      escaped_reason = reasons[i].second.get();
      escaped.clear();
      append_string(escaped, *escaped_reason);
    }
    out += escaped;
  }
  out += '}';
}

// metadata.name of a Node object, or nullptr.
const std::string* node_name(const nlohmann::json& node) {
  const auto* metadata = field(node, "metadata");
  const auto* name = metadata ? field(*metadata, "name") : nullptr;
  return name && name->is_string() ? &name->get_ref<const std::string&>() : nullptr;
}

// Per top-level NodeNames member in body order: its names when find_plain_name_lists took them out.
using PrescannedNames = std::optional<std::vector<std::string>>;

// Finds the top-level NodeNames arrays of plain strings (printable ASCII, no escapes) in one quick pass,
// so that nlohmann's lexer, which copies strings a byte at a time, need not read thousands of node
// names. Validity is kept both ways: each array is checked here and replaced by [] in the text left
// for the SAX reader, every other byte is kept. Gives up (finds nothing) on anything unexpected.
class PlainNameLists {
 public:
  explicit PlainNameLists(std::string_view body) : body_(body) {
    if (!walk_members()) {
      found.clear();
      cuts_.clear();
      return;
    }
    if (cuts_.empty()) return;
    rest.reserve(body.size());
    std::size_t kept = 0;
    for (auto [begin, end] : cuts_) {
      rest.append(body.substr(kept, begin - kept));
      rest += "[]";
      kept = end;
    }
    rest.append(body.substr(kept));
  }

  std::vector<PrescannedNames> found;
  std::string rest;  // the body with each found array replaced by []
  bool cuts_made() const { return !cuts_.empty(); }

 private:
  bool walk_members() {
    skip_space();
    if (!take('{')) return false;
    skip_space();
    if (take('}')) return true;
    do {
      skip_space();
      std::size_t key_begin = pos_ + 1;
      if (!at('"') || !skip_string()) return false;
      std::string_view key = body_.substr(key_begin, pos_ - 1 - key_begin);
      if (key.find('\\') != std::string_view::npos) return false;  // the reader would see another key
      skip_space();
      if (!take(':')) return false;
      skip_space();
      std::size_t value_begin = pos_;
      if (same_key(key, "NodeNames")) {
        auto names = plain_names();
        if (names) {
          cuts_.emplace_back(value_begin, pos_);
        } else {
          pos_ = value_begin;
        }
        found.push_back(std::move(names));
      }
      if (pos_ == value_begin && !skip_value()) return false;
      skip_space();
    } while (take(','));
    return take('}');
  }

  // At '[': the strings of an array holding only plain strings, with pos_ after it.
  PrescannedNames plain_names() {
    if (!take('[')) return std::nullopt;
    std::vector<std::string> names;
    skip_space();
    if (take(']')) return names;
    do {
      skip_space();
      if (!take('"')) return std::nullopt;
      std::size_t begin = pos_;
      while (pos_ < body_.size() && body_[pos_] >= 0x20 && body_[pos_] < 0x7f && body_[pos_] != '"' &&
             body_[pos_] != '\\') {
        ++pos_;
      }
      if (!take('"')) return std::nullopt;
      names.emplace_back(body_.substr(begin, pos_ - 1 - begin));
      skip_space();
    } while (take(','));
    if (!take(']')) return std::nullopt;
    return names;
  }

  // Skips a value by its brackets and strings alone; the SAX reader checks it.
  bool skip_value() {
    int depth = 0;
    while (pos_ < body_.size()) {
      char c = body_[pos_];
      if (c == '"') {
        if (!skip_string()) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
        ++pos_;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;
        ++pos_;
        if (--depth == 0) return true;
      } else if (depth == 0 && (c == ',' || is_space(c))) {
        return true;
      } else {
        ++pos_;
      }
    }
    return false;
  }

  // At '"': past the closing quote.
  bool skip_string() {
    for (++pos_; pos_ < body_.size(); ++pos_) {
      if (body_[pos_] == '\\') {
        ++pos_;
      } else if (body_[pos_] == '"') {
        ++pos_;
        return true;
      }
    }
    return false;
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skip_space() {
    while (pos_ < body_.size() && is_space(body_[pos_])) ++pos_;
  }
  bool at(char c) const { return pos_ < body_.size() && body_[pos_] == c; }
  bool take(char c) {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }

  std::string_view body_;
  std::size_t pos_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> cuts_;  // [begin, end) of each found array
};

// Reads ExtenderArgs in one pass with no DOM of the whole body: NodeNames go straight into strings,
// Pod and Nodes become DOMs, and every other member is only validated. Top-level members are kept by
// their spelling so that field()'s rules still pick among them; a repeated key keeps its last value,
// as in a DOM.
class ExtenderArgsReader {
 public:
  using Json = nlohmann::json;

  explicit ExtenderArgsReader(std::vector<PrescannedNames>& prescanned) : prescanned_(prescanned) {}

  struct NameList {
    enum class Shape { kNull, kArray, kOther } shape = Shape::kNull;
    bool all_strings = true;
    std::vector<std::string> names;
  };
  std::map<std::string, Json, std::less<>> pods;
  std::map<std::string, Json, std::less<>> nodes;
  std::map<std::string, NameList, std::less<>> node_names;

  bool null() {
    return scalar([](auto& dom) { return dom.null(); }, [] { return Json(nullptr); }, nullptr);
  }
  bool boolean(bool value) {
    return scalar([&](auto& dom) { return dom.boolean(value); }, [&] { return Json(value); }, nullptr);
  }
  bool number_integer(Json::number_integer_t value) {
    return scalar([&](auto& dom) { return dom.number_integer(value); }, [&] { return Json(value); }, nullptr);
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return scalar([&](auto& dom) { return dom.number_unsigned(value); }, [&] { return Json(value); }, nullptr);
  }
  bool number_float(Json::number_float_t value, const std::string& text) {
    return scalar([&](auto& dom) { return dom.number_float(value, text); }, [&] { return Json(value); }, nullptr);
  }
  bool string(std::string& value) {
    return scalar([&](auto& dom) { return dom.string(value); }, [&] { return Json(value); }, &value);
  }
  bool binary(Json::binary_t& value) {
    return scalar([&](auto& dom) { return dom.binary(value); }, [&] { return Json::binary(value); }, nullptr);
  }
  bool start_object(std::size_t size) {
    return start(false, [&](auto& dom) { return dom.start_object(size); });
  }
  bool start_array(std::size_t size) {
    return start(true, [&](auto& dom) { return dom.start_array(size); });
  }
  bool end_object() {
    return end([](auto& dom) { return dom.end_object(); });
  }
  bool end_array() {
    return end([](auto& dom) { return dom.end_array(); });
  }
  bool key(std::string& name) {
    if (dom_) return dom_->key(name);
    if (depth_ == 1 && root_is_object_) {
      member_ = name;
      target_ = same_key(name, "Pod")         ? Target::kPod
                : same_key(name, "Nodes")     ? Target::kNodes
                : same_key(name, "NodeNames") ? Target::kNodeNames
                                              : Target::kSkip;
    }
    return true;
  }
  bool root_is_object() const { return root_is_object_; }

 private:
  enum class Target { kPod, kNodes, kNodeNames, kSkip };
  using DomBuilder = nlohmann::detail::json_sax_dom_parser<Json>;

  bool in_member() const { return depth_ == 1 && root_is_object_ && !dom_; }
  Json* dom_slot() {
    if (target_ == Target::kPod) return &pods[member_];
    if (target_ == Target::kNodes) return &nodes[member_];
    return nullptr;
  }

  template <class Forward, class Make>
  bool scalar(Forward forward, Make make, std::string* text) {
    if (dom_) return forward(*dom_);
    if (!in_member()) {
      if (names_ && depth_ == names_depth_) {
        if (text) {
          names_->names.push_back(std::move(*text));
        } else {
          names_->all_strings = false;
        }
      }
      return true;
    }
    if (Json* slot = dom_slot()) {
      *slot = make();
    } else if (target_ == Target::kNodeNames) {
      take_prescanned();
      auto shape = make().is_null() ? NameList::Shape::kNull : NameList::Shape::kOther;
      node_names[member_] = NameList{shape, true, {}};
    }
    return true;
  }

  template <class Forward>
  bool start(bool array, Forward forward) {
    if (dom_) {
      ++dom_depth_;
      return forward(*dom_);
    }
    if (depth_ == 0) {
      root_is_object_ = !array;
    } else if (in_member()) {
      if (Json* slot = dom_slot()) {
        dom_.emplace(*slot);
        dom_depth_ = 1;
        return forward(*dom_);
      }
      if (target_ == Target::kNodeNames) {
        auto& list = node_names[member_] =
            NameList{array ? NameList::Shape::kArray : NameList::Shape::kOther, true, {}};
        if (auto prescanned = take_prescanned()) list.names = std::move(*prescanned);
        if (array) {
          names_ = &list;
          names_depth_ = depth_ + 1;
        }
      }
    } else if (names_ && depth_ == names_depth_) {
      names_->all_strings = false;
    }
    ++depth_;
    return true;
  }

  // The names of this NodeNames member if find_plain_name_lists took them out of the body.
  std::optional<std::vector<std::string>> take_prescanned() {
    if (next_prescanned_ == prescanned_.size()) return std::nullopt;
    return std::move(prescanned_[next_prescanned_++]);
  }

  template <class Forward>
  bool end(Forward forward) {
    if (dom_) {
      bool ok = forward(*dom_);
      if (--dom_depth_ == 0) dom_.reset();
      return ok;
    }
    if (--depth_ < names_depth_) names_ = nullptr;
    return true;
  }

  int depth_ = 0;  // containers open outside a DOM being built; the root object is depth 1
  bool root_is_object_ = false;
  std::string member_;  // the top-level key whose value comes next
  Target target_ = Target::kSkip;
  std::optional<DomBuilder> dom_;  // building the value of a Pod or Nodes member
  int dom_depth_ = 0;
  NameList* names_ = nullptr;  // collecting the strings of a NodeNames array
  int names_depth_ = 0;
  std::vector<PrescannedNames>& prescanned_;
  std::size_t next_prescanned_ = 0;
};

// The member of `found` that field() would pick: every key there matches case-insensitively, so it is
// the exact spelling, else the first in key order. Null values count as absent.
template <class Value, class IsNull>
Value* pick(std::map<std::string, Value, std::less<>>& found, std::string_view key, IsNull is_null) {
  auto it = found.find(key);
  if (it == found.end()) it = found.begin();
  return it == found.end() || is_null(it->second) ? nullptr : &it->second;
}

}  // namespace

Result<ExtenderArgs> parse_extender_args(std::string_view body) {
  PlainNameLists plain(body);
  ExtenderArgsReader reader(plain.found);
  std::string_view text = plain.cuts_made() ? std::string_view(plain.rest) : body;
  if (auto parsed = json::parse_json_sax(text, "ExtenderArgs", reader); !parsed) return parsed.error();
  if (!reader.root_is_object()) return Error{"ExtenderArgs must be a JSON object"};
  auto json_null = [](const nlohmann::json& value) { return value.is_null(); };
  ExtenderArgs args;
  auto* pod = pick(reader.pods, "Pod", json_null);
  if (!pod || !pod->is_object()) return Error{"ExtenderArgs has no Pod"};
  args.pod = std::move(*pod);
  using NameList = ExtenderArgsReader::NameList;
  auto* names =
      pick(reader.node_names, "NodeNames", [](const NameList& list) { return list.shape == NameList::Shape::kNull; });
  if (names) {
    if (names->shape != NameList::Shape::kArray || !names->all_strings) {
      return Error{"ExtenderArgs.NodeNames must be a list of node names"};
    }
    args.node_names = std::move(names->names);
    return args;
  }
  auto* nodes = pick(reader.nodes, "Nodes", json_null);
  if (!nodes) return Error{"ExtenderArgs has neither NodeNames nor Nodes"};
  if (!nodes->is_object()) return Error{"ExtenderArgs.Nodes must be a NodeList object"};
  auto* items = field(*nodes, "items");
  if (items && !items->is_array()) return Error{"ExtenderArgs.Nodes.items must be a list"};
  args.nodes_form = true;
  args.node_items = items ? std::move(*items) : nlohmann::json::array();
  for (const auto& node : args.node_items) {
    const std::string* name = node_name(node);
    if (!name) return Error{"a node in Nodes.items has no metadata.name"};
    args.node_names.push_back(*name);
  }
  return args;
}

std::string encode_filter_result(const FilterOutcome& outcome, const ExtenderArgs& args) {
  std::string out;
  // The reply is mostly node names and reasons, hundreds of KB at thousands of nodes: sized once, as
  // growing it costs a copy and fresh pages each time.
  std::size_t size = 160;
  for (auto name : outcome.passed) size += name.size() + 3;
  for (const auto* reasons : {&outcome.failed, &outcome.unresolvable}) {
    for (const auto& [name, reason] : *reasons) size += name.size() + reason->size() + 6;
  }
  out.reserve(size);
  if (args.nodes_form) {
    nlohmann::json items = nlohmann::json::array();
    std::size_t next = 0;  // passed keeps the order of the request
    for (const auto& node : args.node_items) {
      // parse_extender_args has read every item's name.
      if (next < outcome.passed.size() && *node_name(node) == outcome.passed[next]) {
        items.push_back(node);
        ++next;
      }
    }
    out += R"({"Nodes":{"metadata":{},"items":)" + items.dump() + R"(},"NodeNames":null)";
  } else {
    out += R"({"Nodes":null,"NodeNames":[)";
    for (std::size_t i = 0; i < outcome.passed.size(); ++i) {
      if (i) out += ',';
      append_string(out, outcome.passed[i]);
    }
    out += ']';
  }
  out += R"(,"FailedNodes":)";
  append_reasons(out, outcome.failed);
  out += R"(,"FailedAndUnresolvableNodes":)";
  append_reasons(out, outcome.unresolvable);
  out += R"(,"Error":""})";
  return out;
}

std::string encode_filter_error(std::string_view error) {
  std::string out = R"({"Nodes":null,"NodeNames":null,"FailedNodes":{},"FailedAndUnresolvableNodes":{},"Error":)";
  append_string(out, error);
  out += '}';
  return out;
}

std::string encode_host_priorities(const std::vector<HostScore>& scores) {
  std::string out = "[";
  out.reserve(scores.size() * 40);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (i) out += ',';
    out += R"({"Host":)";
    append_string(out, scores[i].host);
    out += R"(,"Score":)" + std::to_string(scores[i].score) + '}';
  }
  out += ']';
  return out;
}

Result<BindingArgs> parse_binding_args(std::string_view body) {
  auto document = parse_object(body, "ExtenderBindingArgs");
  if (!document) return document.error();
  BindingArgs args;
  for (auto [key, target] : {std::pair{"PodName", &args.pod_name}, std::pair{"PodNamespace", &args.pod_namespace},
                             std::pair{"Node", &args.node}}) {
    auto value = string_field(*document, key, "ExtenderBindingArgs");
    if (!value) return value.error();
    *target = std::move(*value);
  }
  auto uid = checked_field(*document, "PodUID", &nlohmann::json::is_string, "a string", "ExtenderBindingArgs.PodUID");
  if (!uid) return uid.error();
  if (*uid) args.pod_uid = (*uid)->get<std::string>();
  return args;
}

std::string encode_binding_result(std::string_view error) {
  std::string out = R"({"Error":)";
  append_string(out, error);
  out += '}';
  return out;
}

Result<PreemptionArgs> parse_preemption_args(std::string_view body) {
  auto document = parse_object(body, "ExtenderPreemptionArgs");
  if (!document) return document.error();
  PreemptionArgs args;
  auto* pod = field(*document, "Pod");
  if (!pod || !pod->is_object()) return Error{"ExtenderPreemptionArgs has no Pod"};
  args.pod = std::move(*pod);
  const auto* meta = field(*document, "NodeNameToMetaVictims");
  const auto* full = meta ? nullptr : field(*document, "NodeNameToVictims");
  const auto* map = meta ? meta : full;
  if (!map) return args;
  const std::string map_name =
      std::string("ExtenderPreemptionArgs.") + (meta ? "NodeNameToMetaVictims" : "NodeNameToVictims");
  if (!map->is_object()) return Error{map_name + " must be a map of node name to victims"};
  for (const auto& [node, victims] : map->items()) {
    const std::string name = map_name + "[" + node + "]";
    if (!victims.is_object()) return Error{name + " must be an object"};
    MetaVictims entry;
    auto pdb = checked_field(victims, "NumPDBViolations", &nlohmann::json::is_number_integer, "an integer",
                             name + ".NumPDBViolations");
    if (!pdb) return pdb.error();
    if (*pdb) entry.num_pdb_violations = (*pdb)->get<std::int64_t>();
    auto pods = checked_field(victims, "Pods", &nlohmann::json::is_array, "a list", name + ".Pods");
    if (!pods) return pods.error();
    static const nlohmann::json kNoPods = nlohmann::json::array();
    for (const auto& victim : *pods ? **pods : kNoPods) {  // both lvalues: no copy of the list
      const nlohmann::json* uid = nullptr;
      if (meta) {
        uid = field(victim, "UID");
      } else if (const auto* metadata = field(victim, "metadata")) {
        uid = field(*metadata, "uid");
      }
      if (!uid || !uid->is_string()) return Error{"a victim of node " + node + " has no UID"};
      entry.pod_uids.push_back(uid->get<std::string>());
    }
    args.victims.emplace(node, std::move(entry));
  }
  return args;
}

std::string encode_preemption_result(const std::map<std::string, MetaVictims>& victims) {
  nlohmann::json map = nlohmann::json::object();
  for (const auto& [node, entry] : victims) {
    nlohmann::json pods = nlohmann::json::array();
    for (const auto& uid : entry.pod_uids) pods.push_back({{"UID", uid}});
    map[node] = {{"Pods", std::move(pods)}, {"NumPDBViolations", entry.num_pdb_violations}};
  }
  return nlohmann::json{{"NodeNameToMetaVictims", std::move(map)}}.dump();
}

std::string encode_verb_error(std::string_view verb, std::string_view message) {
  if (verb == "filter") return encode_filter_error(message);
  std::string out = verb == "preempt" ? R"({"NodeNameToMetaVictims":null,"Error":)" : R"({"Error":)";
  append_string(out, message);
  out += '}';
  return out;
}

}  // namespace tpustack::extender::wire
