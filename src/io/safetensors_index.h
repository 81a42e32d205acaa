// One lookup by tensor name over a model's weights, whether they are one `model.safetensors` or shards listed
// by `model.safetensors.index.json` ({"metadata": {...}, "weight_map": {tensor: shard file}}).
// Each shard is mapped once; the index is checked against the shards before anything is trusted.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/safetensors.h"

namespace scitune {

inline constexpr std::string_view kSafetensorsSingleFile = "model.safetensors";
inline constexpr std::string_view kSafetensorsIndexFile = "model.safetensors.index.json";

class TensorStore {
 public:
  // A folder with model.safetensors.index.json (preferred when present) or model.safetensors.
  static TensorStore open_folder(const std::filesystem::path& dir);
  // A sharded model from its index file. Rejects: shard names with '/', '\\' or "..", a tensor missing from
  // its shard, a shard tensor the weight_map does not list (the index would not describe the shard).
  static TensorStore open_index(const std::filesystem::path& index_json);
  static TensorStore open_file(const std::filesystem::path& file);

  TensorStore(TensorStore&&) noexcept = default;
  TensorStore& operator=(TensorStore&&) noexcept = default;

  std::optional<TensorView> find(std::string_view name) const;
  TensorView tensor(std::string_view name) const;  // UserError naming the folder if absent
  bool contains(std::string_view name) const { return entries_.count(std::string(name)) != 0; }
  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  size_t size() const { return entries_.size(); }
  size_t num_files() const { return files_.size(); }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // Lets the pages of tensor data read once leave the resident set (SafetensorsFile::drop_resident_pages).
  void drop_resident_pages(std::span<const uint8_t> bytes) const {
    for (const auto& f : files_) f->drop_resident_pages(bytes);
  }
  // The index file's "metadata" object (empty for a single file).
  const nlohmann::json& index_metadata() const { return index_metadata_; }
  const std::string& source() const { return source_; }  // the folder / index / file, for messages

 private:
  TensorStore() = default;
  struct Entry {
    size_t file;
    const TensorInfo* info;
  };
  std::vector<std::unique_ptr<SafetensorsFile>> files_;  // heap-held so Entry::info stays valid on move
  std::unordered_map<std::string, Entry> entries_;
  nlohmann::json index_metadata_ = nlohmann::json::object();
  std::string source_;
};

}  // namespace scitune
