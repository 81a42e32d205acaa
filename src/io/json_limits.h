// Strict JSON for untrusted files (safetensors headers, config.json, index files): nlohmann-json with a nesting
// depth limit, a size limit and duplicate-key rejection. nlohmann silently keeps the last of two equal keys,
// which would let a file say two different things about one tensor; here that is an error.
// Also small typed accessors whose errors name the file and the field.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace scitune {

struct JsonLimits {
  size_t max_depth = 64;           // nested objects/arrays; the root container is depth 1
  size_t max_bytes = 100'000'000;  // the safetensors reference caps its header at 100 MB
};

// Parses `text`; `source` names the input in errors ("config.json"). Throws UserError on invalid JSON, invalid
// UTF-8, nesting deeper than limits.max_depth, more than max_bytes, or a key repeated within one object.
nlohmann::json parse_json_strict(std::string_view text, const std::string& source, const JsonLimits& limits = {});

// Reads and parses a whole file (memory-mapped); errors name the path.
nlohmann::json read_json_file(const std::filesystem::path& path, const JsonLimits& limits = {});

// "object", "array", "string", "integer", "number", "boolean" or "null": for messages.
std::string_view json_type_name(const nlohmann::json& v);

// Typed reads of one field. `where` prefixes messages and names the field, e.g. `config.json: "hidden_size"`.
// Integer fields must be JSON integers (8, not 8.0), as the reference readers (serde, Python int) expect.
// Throws UserError naming `where`, the expected type and what was found.
int64_t json_int(const nlohmann::json& v, const std::string& where);
uint64_t json_uint(const nlohmann::json& v, const std::string& where);
double json_number(const nlohmann::json& v, const std::string& where);
bool json_bool(const nlohmann::json& v, const std::string& where);
const std::string& json_string(const nlohmann::json& v, const std::string& where);
const nlohmann::json& json_object(const nlohmann::json& v, const std::string& where);
const nlohmann::json& json_array(const nlohmann::json& v, const std::string& where);

// The member `key` of object `obj`, or nullptr if absent. JSON null counts as absent when null_is_absent.
const nlohmann::json* json_find(const nlohmann::json& obj, std::string_view key, bool null_is_absent = true);

}  // namespace scitune
