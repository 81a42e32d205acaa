#include "io/json_limits.h"

#include <limits>
#include <unordered_set>
#include <vector>

#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

namespace {

using json = nlohmann::json;

// One open container while parsing: objects remember their keys to catch repeats.
struct Frame {
  bool is_object = false;
  std::unordered_set<std::string> keys;
  std::string current_key;
};

std::string path_of(const std::vector<Frame>& frames) {
  std::string path;
  for (size_t i = 0; i + 1 < frames.size(); ++i) path += frames[i].is_object ? "/" + frames[i].current_key : "/[]";
  return path.empty() ? "/" : path;
}

}  // namespace

json parse_json_strict(std::string_view text, const std::string& source, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    fail(source + ": JSON is " + std::to_string(text.size()) + " bytes, more than the limit of " +
         std::to_string(limits.max_bytes));
  std::vector<Frame> frames;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (frames.size() >= limits.max_depth)
          fail(source + ": JSON nested deeper than " + std::to_string(limits.max_depth) + " levels at " +
               path_of(frames));
        frames.push_back(Frame{event == json::parse_event_t::object_start, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        break;
      case json::parse_event_t::key: {
        SCITUNE_CHECK(!frames.empty() && frames.back().is_object, "JSON key outside an object");
        Frame& top = frames.back();
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!top.keys.insert(key).second) {
          top.current_key = key;
          fail(source + ": duplicate key \"" + key + "\" in JSON object " + path_of(frames) +
               " (each key may appear once)");
        }
        top.current_key = key;
        break;
      }
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    fail(source + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. out_of_range for a number like 1e999
    fail(source + ": invalid JSON: " + e.what());
  }
}

json read_json_file(const std::filesystem::path& path, const JsonLimits& limits) {
  MappedFile file(path);
  if (file.size() > limits.max_bytes)
    fail(path.string() + ": file is " + std::to_string(file.size()) + " bytes, more than the JSON limit of " +
         std::to_string(limits.max_bytes));
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  return parse_json_strict(text, path.string(), limits);
}

std::string_view json_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::null:
      return "null";
    default:
      return "unsupported value";
  }
}

namespace {
[[noreturn]] void wrong_type(const json& v, const std::string& where, std::string_view expected) {
  std::string found(json_type_name(v));
  if (v.is_primitive() && !v.is_string()) found += " " + v.dump();
  fail(where + ": expected " + std::string(expected) + ", found " + found);
}
}  // namespace

int64_t json_int(const json& v, const std::string& where) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(where + ": integer " + std::to_string(u) + " is out of range");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  wrong_type(v, where, "an integer");
}

uint64_t json_uint(const json& v, const std::string& where) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0) fail(where + ": expected a non-negative integer, found " + std::to_string(i));
    return static_cast<uint64_t>(i);
  }
  wrong_type(v, where, "a non-negative integer");
}

double json_number(const json& v, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  wrong_type(v, where, "a number");
}

bool json_bool(const json& v, const std::string& where) {
  if (v.is_boolean()) return v.get<bool>();
  wrong_type(v, where, "true or false");
}

const std::string& json_string(const json& v, const std::string& where) {
  if (v.is_string()) return v.get_ref<const std::string&>();
  wrong_type(v, where, "a string");
}

const json& json_object(const json& v, const std::string& where) {
  if (v.is_object()) return v;
  wrong_type(v, where, "an object");
}

const json& json_array(const json& v, const std::string& where) {
  if (v.is_array()) return v;
  wrong_type(v, where, "an array");
}

const json* json_find(const json& obj, std::string_view key, bool null_is_absent) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (null_is_absent && it->is_null()) return nullptr;
  return &*it;
}

}  // namespace scitune
