#include "export/gguf_types.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace scitune {

std::optional<GgufFileType> parse_gguf_file_type(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  using M = GgufFileType::Mix;
  static const GgufFileType kTypes[] = {
      {"f32", 0, GgmlType::F32},    {"f16", 1, GgmlType::F16},   {"bf16", 32, GgmlType::BF16},
      {"q8_0", 7, GgmlType::Q8_0},  {"q4_0", 2, GgmlType::Q4_0}, {"q4_1", 3, GgmlType::Q4_1},
      {"q5_0", 8, GgmlType::Q5_0},  {"q5_1", 9, GgmlType::Q5_1}, {"q4_k_m", 15, GgmlType::Q4_K, M::kQ4KM},
      {"q5_k_m", 17, GgmlType::Q5_K, M::kQ5KM}, {"q6_k", 18, GgmlType::Q6_K, M::kKDefault},
  };
  for (const auto& t : kTypes)
    if (t.name == s) return t;
  return std::nullopt;
}

namespace {

int layer_of(const std::string& name) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// llama-quantize: i < n/8, i >= 7n/8, or every third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

GgmlType fallback(GgmlType t, uint64_t ncols, bool* fell_back) {
  if (ncols % ggml_info(t).block_size == 0) return t;
  *fell_back = true;
  GgmlType f = t;
  switch (t) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K: f = GgmlType::Q4_0; break;
    case GgmlType::Q4_K: f = GgmlType::Q5_0; break;
    case GgmlType::Q5_K: f = GgmlType::Q5_1; break;
    case GgmlType::Q6_K: f = GgmlType::Q8_0; break;
    default: f = GgmlType::F16; break;
  }
  return ncols % ggml_info(f).block_size == 0 ? f : GgmlType::F16;
}

}  // namespace

bool llama_tensor_order_less(const std::string& a, const std::string& b) {
  const int la = layer_of(a), lb = layer_of(b);
  if (la != lb) return la < lb;
  return a < b;
}

void plan_gguf_types(const GgufFileType& ft, std::vector<GgufTensorPlan>& tensors, bool has_imatrix) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return llama_tensor_order_less(tensors[x].name, tensors[y].name); });
  bool has_output = false;
  int n_attn_v = 0, n_layers = 0;
  for (const auto& t : tensors) {
    has_output |= t.name == "output.weight";
    n_attn_v += contains(t.name, "attn_v.weight");
    n_layers = std::max(n_layers, layer_of(t.name) + 1);
  }
  const bool quantised = ggml_info(ft.default_type).quantized;
  int i_attn_v = 0, i_ffn_down = 0;
  for (size_t idx : order) {
    GgufTensorPlan& t = tensors[idx];
    t.fell_back = false;
    const bool is_weight = t.name.size() >= 6 && t.name.compare(t.name.size() - 6, 6, "weight") == 0;
    if (t.ne.size() < 2 || !is_weight || contains(t.name, "_norm.weight")) {
      t.type = GgmlType::F32;
      continue;
    }
    GgmlType type = ft.default_type;
    if (!quantised) {  // the converter's plain types: every 2-D weight in that type
      t.type = type;
      continue;
    }
    const bool is_output = t.name == "output.weight" || (!has_output && t.name == "token_embd.weight");
    if (is_output) {
      if (t.ne[0] % ggml_info(type).block_size != 0) type = GgmlType::Q8_0;
      else if (type != GgmlType::Q8_0) type = GgmlType::Q6_K;
    } else if (contains(t.name, "attn_v.weight")) {
      if ((ft.mix == GgufFileType::Mix::kQ4KM || ft.mix == GgufFileType::Mix::kQ5KM) && use_more_bits(i_attn_v, n_attn_v))
        type = GgmlType::Q6_K;
      ++i_attn_v;
    } else if (contains(t.name, "ffn_down")) {
      if ((ft.mix == GgufFileType::Mix::kQ4KM || ft.mix == GgufFileType::Mix::kQ5KM) && use_more_bits(i_ffn_down, n_layers))
        type = GgmlType::Q6_K;
      else if (has_imatrix && ft.mix == GgufFileType::Mix::kNone && i_ffn_down < n_layers / 8 &&
               (type == GgmlType::Q4_0 || type == GgmlType::Q5_0))
        type = type == GgmlType::Q4_0 ? GgmlType::Q4_1 : GgmlType::Q5_1;
      ++i_ffn_down;
    }
    t.type = fallback(type, t.ne[0], &t.fell_back);
  }
}

}  // namespace scitune
