#include "model/weights.h"

#include <algorithm>
#include <cstring>
#include <span>

#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/q4_0x16.h"
#include "model/gguf_model.h"
#include "model/tensor_names.h"
#include "quant/quants.h"
#include "util/error.h"

namespace scitune {

namespace {

// A loaded tensor: fp32 values (norms always; everything with dequantize) or a matrix in some storage.
struct Loaded {
  const float* f32 = nullptr;
  WeightMatrix matrix;
};

// Points the weight slot that tensor d feeds at what was loaded for it.
void assign(Gemma3Weights& w, const TensorDesc& d, const Loaded& t) {
  if (d.role == TensorRole::kEmbedding) {
    w.embed = t.matrix;
    return;
  }
  if (d.layer < 0) {
    SCITUNE_CHECK(d.module == "norm", "unexpected top-level tensor " + d.name);
    w.final_norm = t.f32;
    return;
  }
  Gemma3LayerWeights& L = w.layers[static_cast<size_t>(d.layer)];
  const std::string_view mod = d.module;
  WeightMatrix* m = mod == "q_proj"      ? &L.q
                    : mod == "k_proj"    ? &L.k
                    : mod == "v_proj"    ? &L.v
                    : mod == "o_proj"    ? &L.o
                    : mod == "gate_proj" ? &L.gate
                    : mod == "up_proj"   ? &L.up
                    : mod == "down_proj" ? &L.down
                                         : nullptr;
  if (m) {
    *m = t.matrix;
    return;
  }
  const float** slot = mod == "input_layernorm"            ? &L.attn_norm
                       : mod == "q_norm"                     ? &L.q_norm
                       : mod == "k_norm"                     ? &L.k_norm
                       : mod == "post_attention_layernorm"   ? &L.post_attn_norm
                       : mod == "pre_feedforward_layernorm"  ? &L.ffn_norm
                       : mod == "post_feedforward_layernorm" ? &L.post_ffn_norm
                                                             : nullptr;
  SCITUNE_CHECK(slot != nullptr, "unexpected layer tensor " + d.name);
  *slot = t.f32;
}

// LoadOptions::inference_layout for one matrix: a Q4_0 one gets its 16-row repack (`data` stays where it was, for
// the exact paths and embedding lookups); with `copy_others`, any other type is copied as it is and `data` moves
// to the copy. Both in huge pages.
void lay_out_for_inference(LoadedGemma3& m, WeightMatrix& w, bool copy_others) {
  const size_t bytes = w.row_bytes() * static_cast<size_t>(w.rows);
  if (w.type == GgmlType::Q4_0 && !w.nf4 && ops::q4_0x16_available() && ops::q4_0x16_fits(w.rows, w.cols)) {
    uint8_t* packed = m.inference_copies.allocate(bytes);
    ops::pack_q4_0x16(packed, w.data, w.rows, w.cols);
    w.q4_0x16 = packed;
  } else if (copy_others && !w.nf4) {
    uint8_t* copy = m.inference_copies.allocate(bytes);
    std::memcpy(copy, w.data, bytes);
    w.data = copy;
  }
}

// Keeps fp32 values (or quantises them, for a matrix with options.quant) in m's storage.
Loaded keep(LoadedGemma3& m, const TensorDesc& d, std::vector<float> values, const LoadOptions& options) {
  Loaded out;
  if (d.role == TensorRole::kNorm) {
    out.f32 = m.storage.emplace_back(std::move(values)).data();
    return out;
  }
  const int64_t rows = d.shape[0], cols = d.shape[1];
  if (options.nf4 && !options.dequantize && d.role == TensorRole::kLinear) {
    if (cols % 64 != 0) fail(d.name + ": " + std::to_string(cols) + " columns are not a multiple of the NF4 block (64)");
    auto q = std::make_unique<Nf4Quantized>(nf4_quantize(values, 64, /*double_quant=*/true));
    q->shape = {rows, cols};
    out.matrix = {GgmlType::F32, q->packed.data(), rows, cols, q.get()};
    m.nf4storage.push_back(std::move(q));
    return out;
  }
  if (options.quant && !options.dequantize) {
    const GgmlType t = *options.quant;
    if (cols % ggml_info(t).block_size != 0)
      fail(d.name + ": " + std::to_string(cols) + " columns are not a multiple of the " +
           std::string(ggml_info(t).name) + " block size");
    const size_t rb = ggml_row_size(t, static_cast<uint64_t>(cols));
    std::vector<uint8_t>& q = m.qstorage.emplace_back(rb * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) quantize_row(t, values.data() + r * cols, q.data() + r * rb, cols);
    out.matrix = {t, q.data(), rows, cols};
    if (options.inference_layout) lay_out_for_inference(m, out.matrix, /*copy_others=*/false);
    return out;
  }
  out.matrix = WeightMatrix::f32(m.storage.emplace_back(std::move(values)).data(), rows, cols);
  return out;
}

template <class Fetch>
void load_all(LoadedGemma3& m, Fetch fetch) {
  m.weights.layers.resize(static_cast<size_t>(m.config.num_hidden_layers));
  m.storage.reserve(text_tensors(m.config).size());
  m.qstorage.reserve(text_tensors(m.config).size());
  for_each_tensor(m.config, [&](const TensorDesc& d) { assign(m.weights, d, fetch(d)); });
}

std::vector<float> dequantize_tensor(const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements());
  const int64_t row = static_cast<int64_t>(t.ne[0]), rows = static_cast<int64_t>(t.n_elements() / t.ne[0]);
  const size_t row_bytes = ggml_row_size(t.type, t.ne[0]);
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data.data() + r * row_bytes, out.data() + r * row, row);
  return out;
}

}  // namespace

std::optional<GgmlType> parse_quant_on_load(std::string_view name) {
  if (name == "q8_0") return GgmlType::Q8_0;
  if (name == "q4_0") return GgmlType::Q4_0;
  return std::nullopt;
}

void apply_quant_on_load(LoadOptions& options, std::string_view name, const std::string& what) {
  options.quant.reset();
  options.nf4 = false;
  if (name == "none") return;
  if (name == "nf4") {
    options.nf4 = true;
    return;
  }
  options.quant = parse_quant_on_load(name);
  if (!options.quant) fail(what + ": \"" + std::string(name) + "\", expected none, " + std::string(kQuantOnLoadNames));
}

uint64_t LoadedGemma3::weight_bytes() const {
  uint64_t total = 0;
  auto add = [&](const WeightMatrix& w) {
    total += w.row_bytes() * static_cast<uint64_t>(w.rows);
    if (w.nf4) total += static_cast<uint64_t>(w.nf4->num_blocks());  // 8-bit absmax codes
  };
  add(weights.embed);
  const uint64_t C = static_cast<uint64_t>(config.hidden_size), D = static_cast<uint64_t>(config.head_dim);
  total += C * 4;
  for (const auto& L : weights.layers) {
    for (const WeightMatrix* w : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) add(*w);
    total += (4 * C + 2 * D) * 4;
  }
  return total;
}

LoadedGemma3 load_gemma3(const HfModelFolder& folder, const LoadOptions& options) {
  LoadedGemma3 m;
  m.config = folder.config();
  load_all(m, [&](const TensorDesc& d) {
    if (d.role == TensorRole::kLmHead) fail(folder.dir().string() + ": untied lm_head is not supported for Gemma 3");
    const TensorView view = folder.tensor(d.name);
    // Matrices stored in 16 bits stay so (widened exactly where used, as a GGUF's are): a 4B model's
    // embedding alone would take 2.7 GB in fp32. Quantise-on-load and NF4 linears start from fp32 values.
    const bool converted = options.dequantize || options.quant || (options.nf4 && d.role == TensorRole::kLinear);
    if (d.role != TensorRole::kNorm && !converted && options.bf16 && view.dtype() == DType::F32) {
      Loaded out;
      std::vector<uint8_t>& bytes = m.qstorage.emplace_back(view.numel() * 2);
      std::vector<float> unaligned;  // files written by other tools may not align tensors
      const bool aligned = reinterpret_cast<uintptr_t>(view.data.data()) % alignof(float) == 0;
      if (!aligned) unaligned = view.to_f32();
      const float* src = aligned ? reinterpret_cast<const float*>(view.data.data()) : unaligned.data();
      ops::to_bf16(reinterpret_cast<uint16_t*>(bytes.data()), src, static_cast<int64_t>(view.numel()));
      folder.store().drop_resident_pages(view.data);
      out.matrix = {GgmlType::BF16, bytes.data(), d.shape[0], d.shape[1]};
      return out;
    }
    if (d.role != TensorRole::kNorm && !converted && (view.dtype() == DType::BF16 || view.dtype() == DType::F16)) {
      Loaded out;
      // Copied in slices, each slice's file pages dropped after it: the peak is the copy, not the copy + file.
      std::vector<uint8_t>& bytes = m.qstorage.emplace_back(view.data.size());
      constexpr size_t kSlice = size_t{64} << 20;
      for (size_t at = 0; at < bytes.size(); at += kSlice) {
        const std::span<const uint8_t> part = view.data.subspan(at, std::min(kSlice, bytes.size() - at));
        std::copy(part.begin(), part.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
        folder.store().drop_resident_pages(part);
      }
      out.matrix = {view.dtype() == DType::BF16 ? GgmlType::BF16 : GgmlType::F16, bytes.data(), d.shape[0], d.shape[1]};
      return out;
    }
    std::vector<float> buf = view.to_f32();
    folder.store().drop_resident_pages(view.data);  // read once: a 4B folder would otherwise stay resident (8 GB)
    if (d.role == TensorRole::kNorm)
      for (float& w : buf) w += 1.0f;  // HF computes (1 + w) in fp32: the same value
    return keep(m, d, std::move(buf), options);
  });
  return m;
}

LoadedGemma3 load_gemma3(std::shared_ptr<const GgufFile> file, const LoadOptions& options) {
  LoadedGemma3 m;
  m.config = config_from_gguf(*file);
  // Stored types are used in place unless asked otherwise; an NF4 base keeps its embedding in place (bnb only
  // quantises Linear layers).
  const bool keep_stored = !options.dequantize && !options.quant;
  if (keep_stored) m.gguf = file;
  // The inference layout's copies cannot be paged out as the mapped file can: a model that would fill most of the
  // memory stays mapped.
  const bool layout = options.inference_layout && [&] {
    uint64_t file_bytes = 0;
    for (const GgufTensorInfo& t : file->tensors()) file_bytes += t.data.size();
    return anonymous_copies_fit(file_bytes, available_memory_bytes());
  }();
  load_all(m, [&](const TensorDesc& d) {
    if (d.role == TensorRole::kLmHead)
      fail(file->source_name() + ": separate output.weight is not supported for Gemma 3");
    const GgufTensorInfo& t = file->tensor(*gguf_tensor_name(d.name));
    uint64_t numel = 1;
    for (int64_t s : d.shape) numel *= static_cast<uint64_t>(s);
    if (t.n_elements() != numel || static_cast<int64_t>(t.ne[0]) != d.shape.back())
      fail(file->source_name() + ": " + t.name + ": shape does not match the config (expected " +
           std::to_string(d.shape.back()) + " columns, " + std::to_string(numel) + " elements)");
    if (!quant_row_supported(t.type))
      fail(file->source_name() + ": " + t.name + ": tensor type " + std::string(ggml_info(t.type).name) +
           " is not supported");
    const bool in_place = keep_stored && (d.role == TensorRole::kEmbedding || (d.role == TensorRole::kLinear && !options.nf4));
    if (in_place) {
      Loaded out;
      out.matrix = {t.type, t.data.data(), d.shape[0], d.shape[1]};
      if (layout) {
        lay_out_for_inference(m, out.matrix, /*copy_others=*/true);
        // Read again (from the page cache) only by the exact paths and a Q4_0 embedding's row lookups.
        file->drop_resident_pages(t.data);
      }
      return out;
    }
    return keep(m, d, dequantize_tensor(t), options);  // GGUF norms already hold the gain 1 + w
  });
  return m;
}

LoadedGemma3 load_gemma3_fp32(const GgufFile& file) {
  // A non-owning alias: nothing in the result points into the file when everything is dequantised.
  return load_gemma3(std::shared_ptr<const GgufFile>(std::shared_ptr<const GgufFile>(), &file), {.dequantize = true, .quant = std::nullopt, .nf4 = false});
}

}  // namespace scitune
