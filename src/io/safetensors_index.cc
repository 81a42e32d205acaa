#include "io/safetensors_index.h"

#include <algorithm>
#include <map>

#include "io/json_limits.h"
#include "util/error.h"

namespace scitune {

namespace fs = std::filesystem;

namespace {

// A shard must be a plain file name beside the index: no directories, no way out of the folder.
void check_shard_name(const std::string& shard, const std::string& where) {
  if (shard.empty()) fail(where + ": shard file name is empty");
  if (shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
      shard.find("..") != std::string::npos || shard.find('\0') != std::string::npos)
    fail(where + ": shard file name \"" + shard +
         "\" must be a plain file name in the same folder (no '/', '\\' or '..')");
}

}  // namespace

TensorStore TensorStore::open_file(const fs::path& file) {
  TensorStore s;
  s.source_ = file.string();
  s.files_.push_back(std::make_unique<SafetensorsFile>(file));
  for (const auto& info : s.files_[0]->tensors()) s.entries_.emplace(info.name, Entry{0, &info});
  return s;
}

TensorStore TensorStore::open_index(const fs::path& index_json) {
  const std::string src = index_json.string();
  const nlohmann::json root = read_json_file(index_json);
  json_object(root, src);
  TensorStore s;
  s.source_ = src;
  if (const auto* meta = json_find(root, "metadata")) s.index_metadata_ = json_object(*meta, src + ": \"metadata\"");
  const auto* wm = json_find(root, "weight_map");
  if (!wm) fail(src + ": missing \"weight_map\"");
  const auto& weight_map = json_object(*wm, src + ": \"weight_map\"");
  if (weight_map.empty()) fail(src + ": \"weight_map\" lists no tensors");

  // Open each shard once, in name order so that file indices do not depend on hash order.
  std::map<std::string, size_t> shard_index;
  for (const auto& [tensor, shard_v] : weight_map.items()) {
    const std::string where = src + ": \"weight_map\" \"" + tensor + "\"";
    const std::string& shard = json_string(shard_v, where);
    check_shard_name(shard, where);
    shard_index.emplace(shard, 0);
  }
  for (auto& [shard, idx] : shard_index) {
    idx = s.files_.size();
    s.files_.push_back(std::make_unique<SafetensorsFile>(index_json.parent_path() / shard));
  }
  for (const auto& [tensor, shard_v] : weight_map.items()) {
    const std::string& shard = shard_v.get_ref<const std::string&>();
    const size_t f = shard_index.at(shard);
    const TensorInfo* info = s.files_[f]->header().find(tensor);
    if (!info) fail(src + ": \"weight_map\" puts tensor \"" + tensor + "\" in " + shard + ", which has no such tensor");
    s.entries_.emplace(tensor, Entry{f, info});
  }
  for (const auto& [shard, f] : shard_index)
    for (const auto& info : s.files_[f]->tensors()) {
      auto it = s.entries_.find(info.name);
      if (it == s.entries_.end() || it->second.file != f)
        fail(src + ": shard " + shard + " holds tensor \"" + info.name + "\" that \"weight_map\" " +
             (it == s.entries_.end() ? "does not list" : "assigns to another shard"));
    }
  return s;
}

TensorStore TensorStore::open_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir.string() + ": not a directory");
  const fs::path index = dir / kSafetensorsIndexFile;
  if (fs::exists(index, ec)) return open_index(index);
  const fs::path single = dir / kSafetensorsSingleFile;
  if (fs::exists(single, ec)) return open_file(single);
  fail(dir.string() + ": has neither " + std::string(kSafetensorsSingleFile) + " nor " +
       std::string(kSafetensorsIndexFile));
}

std::optional<TensorView> TensorStore::find(std::string_view name) const {
  auto it = entries_.find(std::string(name));
  if (it == entries_.end()) return std::nullopt;
  return files_[it->second.file]->view(*it->second.info);
}

TensorView TensorStore::tensor(std::string_view name) const {
  auto v = find(name);
  if (!v) fail(source_ + ": no tensor named \"" + std::string(name) + "\"");
  return *v;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, e] : entries_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace scitune
