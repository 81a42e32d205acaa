#include "export/export_base.h"

#include <cblas.h>

#include <algorithm>

#include "model/gguf_model.h"
#include "quant/quants.h"
#include "util/error.h"

namespace scitune {

namespace fs = std::filesystem;

ExportBase ExportBase::open(const fs::path& path) {
  ExportBase b;
  b.path_ = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(path / "config.json"))
      fail(path.string() + ": folder has no config.json (expected an HF model folder or a .gguf file)");
    b.hf_ = std::make_shared<const HfModelFolder>(HfModelFolder::open(path));
    b.config_ = b.hf_->config();
  } else {
    if (!fs::exists(path, ec)) fail(path.string() + ": no such file or folder");
    b.gguf_ = std::make_shared<const GgufFile>(GgufFile::open(path));
    b.config_ = config_from_gguf(*b.gguf_);
    for (const TensorDesc& d : text_tensors(b.config_)) {
      if (d.role == TensorRole::kLmHead) continue;
      const auto name = gguf_tensor_name(d.name);
      const GgufTensorInfo* t = name ? b.gguf_->find_tensor(*name) : nullptr;
      if (!t) fail(path.string() + ": tensor " + name.value_or(d.name) + " is missing");
      const std::vector<uint64_t> ne(d.shape.rbegin(), d.shape.rend());
      if (t->ne != ne) fail(path.string() + ": tensor " + t->name + " has a shape that does not fit the config");
      if (!quant_row_supported(t->type))
        fail(path.string() + ": tensor " + t->name + " has type " + std::string(ggml_info(t->type).name) +
             ", which scitune cannot dequantise");
    }
  }
  return b;
}

void ExportBase::attach_adapter(const fs::path& dir) {
  adapter_ = LoraAdapter::load(dir, config_);
  adapter_dir_ = dir;
}

std::optional<std::string> ExportBase::quantised_base_type() const {
  if (!gguf_) return std::nullopt;
  for (const GgufTensorInfo& t : gguf_->tensors())
    if (ggml_info(t.type).quantized) return std::string(ggml_info(t.type).name);
  return std::nullopt;
}

namespace {

std::optional<Proj> proj_of(std::string_view module) {
  for (int p = 0; p < kNumProj; ++p)
    if (module == kProjNames[p]) return static_cast<Proj>(p);
  return std::nullopt;
}

}  // namespace

void ExportBase::read_base_rows(const TensorDesc& d, int64_t row0, int64_t n, std::span<float> out,
                                bool norm_gain) const {
  const int64_t cols = row_length(d);
  if (row0 < 0 || n < 0 || row0 + n > row_count(d) || static_cast<int64_t>(out.size()) != n * cols)
    throw InternalError("read_rows: rows out of range for " + d.name);
  const bool is_norm = d.role == TensorRole::kNorm;
  if (gguf_) {
    const std::string name = d.role == TensorRole::kLmHead ? "output.weight" : *gguf_tensor_name(d.name);
    const GgufTensorInfo& t = gguf_->tensor(name);
    const size_t row_bytes = ggml_row_size(t.type, static_cast<uint64_t>(cols));
    dequantize_row(t.type, t.data.data() + static_cast<size_t>(row0) * row_bytes, out.data(), n * cols);
    if (is_norm && !norm_gain)  // GGUF holds the gain 1 + w
      for (float& v : out) v -= 1.0f;
    return;
  }
  const TensorView v = hf_->tensor(d.name);
  const size_t esize = dtype_size(v.dtype());
  TensorInfo band = *v.info;  // a view of just these rows, converted by the file's own widening rules
  band.shape = {n * cols};
  TensorView rows{&band, v.data.subspan(static_cast<size_t>(row0 * cols) * esize, static_cast<size_t>(n * cols) * esize),
                  v.source};
  band.begin = 0;
  band.end = rows.data.size();
  rows.to_f32(out);
  if (is_norm && norm_gain)
    for (float& x : out) x += 1.0f;
}

void ExportBase::read_rows(const TensorDesc& d, int64_t row0, int64_t n, std::span<float> out, bool norm_gain) const {
  read_base_rows(d, row0, n, out, norm_gain);
  if (!adapter_ || d.role != TensorRole::kLinear) return;
  const auto p = proj_of(d.module);
  const LoraModule* m = p ? adapter_->find(d.layer, *p) : nullptr;
  if (!m || n == 0) return;
  // W[rows] += scale · B[rows] · A, fp32 (B [out, r], A [r, in]).
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(m->in),
              static_cast<int>(m->r), m->scale, m->B.data() + row0 * m->r, static_cast<int>(m->r), m->A.data(),
              static_cast<int>(m->in), 1.0f, out.data(), static_cast<int>(m->in));
}

std::vector<float> ExportBase::read(const TensorDesc& d, bool norm_gain) const {
  std::vector<float> v(static_cast<size_t>(row_count(d) * row_length(d)));
  read_rows(d, 0, row_count(d), v, norm_gain);
  return v;
}

}  // namespace scitune
