#include "export/hf_export.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "model/generation_config.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune {

namespace fs = std::filesystem;

namespace {

struct OutTensor {
  std::string name;  // as stored in the folder
  TensorSpec spec;
  std::optional<TensorDesc> text;  // a text-decoder tensor (merged, converted)
  std::optional<TensorView> raw;   // copied through byte for byte
};

std::string dtype_config_name(DType t) {
  return t == DType::F32 ? "float32" : t == DType::F16 ? "float16" : "bfloat16";
}

std::vector<OutTensor> out_tensors(const ExportBase& base, const MergedExportOptions& o) {
  std::vector<OutTensor> v;
  const ModelConfig& c = base.config();
  for (const TensorDesc& d : text_tensors(c)) {
    std::string name;
    if (const HfModelFolder* hf = base.hf()) {
      if (d.role == TensorRole::kLmHead && !hf->has_separate_lm_head()) continue;
      name = hf->tensor(d.name).name();
    } else {
      name = d.role == TensorRole::kLmHead ? "lm_head.weight" : "model." + d.name;
    }
    v.push_back({name, {name, o.dtype, d.shape}, d, std::nullopt});
  }
  if (const HfModelFolder* hf = base.hf())
    for (const std::string& name : hf->other_tensors()) {
      const TensorView t = hf->store().tensor(name);
      v.push_back({name, {name, t.dtype(), std::vector<int64_t>(t.shape().begin(), t.shape().end())}, std::nullopt, t});
    }
  std::sort(v.begin(), v.end(), [](const OutTensor& a, const OutTensor& b) { return a.name < b.name; });
  return v;
}

void write_text_tensor(const ExportBase& base, const TensorDesc& d, DType dtype, TensorSink& sink,
                       const std::function<void()>& tick) {
  const int64_t cols = row_length(d), rows = row_count(d);
  const int64_t band = std::max<int64_t>(1, (int64_t{1} << 22) / cols);
  std::vector<float> x(static_cast<size_t>(std::min(band, rows) * cols));
  std::vector<uint16_t> h(dtype == DType::F32 ? 0 : x.size());
  for (int64_t r0 = 0; r0 < rows; r0 += band) {
    const int64_t n = std::min(band, rows - r0);
    const size_t count = static_cast<size_t>(n * cols);
    base.read_rows(d, r0, n, std::span<float>(x.data(), count), false);
    if (dtype == DType::F32) {
      sink.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(x.data()), count * 4));
    } else {
      for (size_t i = 0; i < count; ++i) h[i] = dtype == DType::F16 ? fp32_to_fp16(x[i]) : fp32_to_bf16(x[i]);
      sink.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(h.data()), count * 2));
    }
    tick();
  }
}

nlohmann::ordered_json hf_config_json(const ExportBase& base, DType dtype) {
  nlohmann::ordered_json j;
  if (base.hf()) {
    std::ifstream in(base.path() / "config.json");  // already validated by HfModelFolder::open
    j = nlohmann::ordered_json::parse(in);
  } else {
    ModelConfig c = base.config();
    j = nlohmann::ordered_json::parse(to_hf_config(c).dump());
  }
  j["dtype"] = dtype_config_name(dtype);
  if (j.contains("torch_dtype")) j["torch_dtype"] = dtype_config_name(dtype);
  return j;
}

void write_generation_config(const ExportBase& base, const fs::path& dir) {
  if (base.hf() && fs::exists(base.path() / "generation_config.json")) {
    fs::copy_file(base.path() / "generation_config.json", dir / "generation_config.json");
    return;
  }
  const GenerationDefaults g = generation_defaults_for(base.config());
  nlohmann::ordered_json j;
  if (g.bos_token_id) j["bos_token_id"] = *g.bos_token_id;
  j["eos_token_id"] = g.eos_token_ids;
  if (g.pad_token_id) j["pad_token_id"] = *g.pad_token_id;
  j["do_sample"] = g.do_sample;
  j["top_k"] = g.top_k;
  j["top_p"] = g.top_p;
  write_file_atomic(dir / "generation_config.json", j.dump(2) + "\n");
}

}  // namespace

int copy_tokenizer_files(const fs::path& from, const fs::path& dir) {
  int n = 0;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
                        "chat_template.jinja", "chat_template.json", "added_tokens.json"})
    if (fs::exists(from / f)) {
      fs::copy_file(from / f, dir / f, fs::copy_options::overwrite_existing);
      ++n;
    }
  return n;
}

uint64_t merged_export_bytes(const ExportBase& base, const MergedExportOptions& o) {
  uint64_t n = 0;
  for (const OutTensor& t : out_tensors(base, o)) n += t.spec.nbytes();
  return n;
}

int write_merged_folder(const ExportBase& base, const MergedExportOptions& o, const fs::path& dir,
                        const std::function<void(uint64_t)>& progress) {
  if (o.dtype != DType::F32 && o.dtype != DType::F16 && o.dtype != DType::BF16)
    fail("--dtype: expected f32, f16 or bf16");
  std::vector<OutTensor> all = out_tensors(base, o);
  // Shards in name order, each up to max_shard_bytes (a bigger tensor gets a shard of its own).
  std::vector<std::vector<size_t>> shards(1);
  uint64_t in_shard = 0, total = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const uint64_t b = all[i].spec.nbytes();
    if (!shards.back().empty() && in_shard + b > o.max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(i);
    in_shard += b;
    total += b;
  }
  std::map<std::string, const OutTensor*> by_name;
  for (const OutTensor& t : all) by_name[t.name] = &t;
  uint64_t written = 0;
  std::map<std::string, std::string> weight_map;
  for (size_t s = 0; s < shards.size(); ++s) {
    char fname[64];
    if (shards.size() == 1) std::snprintf(fname, sizeof fname, "model.safetensors");
    else std::snprintf(fname, sizeof fname, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    std::vector<TensorSpec> specs;
    for (size_t i : shards[s]) {
      specs.push_back(all[i].spec);
      weight_map[all[i].name] = fname;
    }
    write_safetensors_streaming(dir / fname, specs, {{"format", "pt"}}, [&](const TensorSpec& spec, TensorSink& sink) {
      const OutTensor& t = *by_name.at(spec.name);
      if (t.raw) {
        sink.write(t.raw->data);
        written += t.raw->data.size();
      } else {
        uint64_t before = written;
        write_text_tensor(base, *t.text, o.dtype, sink, [&] {
          if (progress) progress(before);
        });
        written = before + spec.nbytes();
      }
      if (progress) progress(written);
    });
  }
  if (shards.size() > 1) {
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total}};
    index["weight_map"] = weight_map;
    write_file_atomic(dir / "model.safetensors.index.json", index.dump(2) + "\n");
  }
  write_file_atomic(dir / "config.json", hf_config_json(base, o.dtype).dump(2) + "\n");
  write_generation_config(base, dir);
  if (o.tokenizer) copy_tokenizer_files(*o.tokenizer, dir);
  else if (base.hf()) copy_tokenizer_files(base.path(), dir);
  return static_cast<int>(shards.size());
}

}  // namespace scitune
