#include "kernels/cpu/linear.h"

#include <cblas.h>

#include <algorithm>
#include <span>
#include <vector>

#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/matvec_vnni.h"
#include "kernels/cpu/q4_0x16.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"
#include "quant/nf4.h"
#include "quant/quants.h"
#include "util/error.h"

namespace scitune::ops {

namespace {

// One threaded job for weights that read the same Q8_0 activations: each weight's rows split into units (16-row
// groups of a repacked Q4_0, single rows otherwise) and the units of all weights one after the other, so each
// thread takes a contiguous range that may span weights.
void vnni_job(std::span<const LinearOut> outs, const ActivationQ8& act, bool accumulate) {
  auto units = [](const WeightMatrix& w) { return w.q4_0x16 ? w.rows / kQ4x16Rows : w.rows; };
  int64_t total = 0;
  for (const LinearOut& o : outs) total += units(*o.w);
  ThreadPool::global().parallel_for(total, [&](int64_t b, int64_t e) {
    int64_t base = 0;
    for (const LinearOut& o : outs) {
      const WeightMatrix& w = *o.w;
      const int64_t n = units(w), lo = std::max(b, base) - base, hi = std::min(e, base + n) - base;
      if (lo < hi && w.q4_0x16)
        q4_0x16_matmul(o.y, w.rows, act, 0, act.rows, w.q4_0x16, w.cols, lo, hi, accumulate);
      else if (lo < hi)
        vnni_matvec(o.y, act, w, lo, hi, accumulate);
      base += n;
    }
  });
}

// Whether T activation rows against w go to the integer kernels: decoding (few rows) on every VNNI type; with
// kQ8 (generation) also short prompts on those types and any number of rows against a repacked Q4_0.
bool on_vnni_kernels(const WeightMatrix& w, int64_t T, Precision precision) {
  const bool q8 = precision == Precision::kQ8;
  if (q8 && w.q4_0x16) return true;
  return (T < kLinearGemmRows || (q8 && T < kQ8RowKernelMaxRows)) && !w.nf4 && vnni_matvec_available(w.type);
}

// The activations of a linear call quantised to Q8_0 (one buffer per calling thread).
ActivationQ8& quantized_activations(const float* x, int64_t T, int64_t K) {
  thread_local ActivationQ8 act_tls;  // named through a reference: workers must see the caller's copy
  ActivationQ8& act = act_tls;
  act.quantize(x, T, K);
  return act;
}

// Decoding path: quantise the few activation rows once, then one vec_dot per (weight row, activation row),
// weight rows split over the threads so each quantised row is read from memory once.
void linear_vec_dot(float* y, const float* x, const WeightMatrix& w, int64_t T, bool accumulate) {
  const int64_t K = w.cols, N = w.rows;
  if (vnni_matvec_available(w.type)) {
    const LinearOut out{y, &w};
    return vnni_job({&out, 1}, quantized_activations(x, T, K), accumulate);
  }
  const GgmlType at = vec_dot_activation_type(w.type);
  const size_t a_bytes = ggml_row_size(at, static_cast<uint64_t>(K));
  thread_local std::vector<uint8_t> act_buf;
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  if (at != GgmlType::F32) {
    act_buf.resize(a_bytes * static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) quantize_row(at, x + t * K, act_buf.data() + t * a_bytes, K);
    act = act_buf.data();
  }
  const size_t w_bytes = w.row_bytes();
  ThreadPool::global().parallel_for(N, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* wr = w.data + static_cast<size_t>(r) * w_bytes;
      for (int64_t t = 0; t < T; ++t) {
        const float d = vec_dot(w.type, wr, act + t * a_bytes, K);
        float& out = y[t * N + r];
        out = accumulate ? out + d : d;
      }
    }
  });
}

// Weight rows per dequantised panel: about 4 MiB of fp32, at least 16 rows.
int64_t panel_rows(const WeightMatrix& w) { return std::max<int64_t>(16, (int64_t{1} << 20) / w.cols); }

void dequantize_panel(float* out, const WeightMatrix& w, int64_t r0, int64_t rows) {
  ThreadPool::global().parallel_for(rows, [&](int64_t a, int64_t b) {
    for (int64_t r = a; r < b; ++r) weight_row(out + r * w.cols, w, r0 + r);
  });
}

std::vector<float>& panel_buffer(const WeightMatrix& w) {
  thread_local std::vector<float> buf;
  buf.resize(static_cast<size_t>(std::min(panel_rows(w), w.rows) * w.cols));
  return buf;
}

// The bf16 path: activations rounded once, each weight panel dequantised (or read, for fp32) then rounded.
struct Bf16Buffers {
  std::vector<uint16_t> act, panel;
};
Bf16Buffers& bf16_buffers() {
  thread_local Bf16Buffers b;
  return b;
}

bool use_bf16(Precision p, int64_t T) { return p == Precision::kBf16 && T >= kLinearGemmRows && bf16_gemm_available(); }

// Rounds `a` (rows x cols) to bf16 into the activation buffer, then calls fn(r0, rows, panel) for each panel of
// weight rows in bf16 (bf16 weights as stored; others dequantised unless fp32, then rounded).
template <class Fn>
void bf16_panels(const float* a, int64_t a_elems, const WeightMatrix& w, Fn fn) {
  Bf16Buffers& b = bf16_buffers();
  b.act.resize(static_cast<size_t>(a_elems));
  to_bf16(b.act.data(), a, a_elems);
  // bf16 weights are read in place: one product over all rows (panels only bound the dequantised copies).
  const bool in_place = w.type == GgmlType::BF16 && !w.nf4;
  const int64_t P = in_place ? w.rows : panel_rows(w), K = w.cols;
  b.panel.resize(in_place ? 0 : static_cast<size_t>(std::min(P, w.rows) * K));
  std::vector<float>& scratch = panel_buffer(w);
  for (int64_t r0 = 0; r0 < w.rows; r0 += P) {
    const int64_t rows = std::min(P, w.rows - r0);
    if (in_place) {
      fn(r0, rows, b.act.data(), reinterpret_cast<const uint16_t*>(w.row(r0)));
      continue;
    }
    if (w.is_f32()) {
      to_bf16(b.panel.data(), reinterpret_cast<const float*>(w.data) + r0 * K, rows * K);
    } else {
      dequantize_panel(scratch.data(), w, r0, rows);
      to_bf16(b.panel.data(), scratch.data(), rows * K);
    }
    fn(r0, rows, b.act.data(), b.panel.data());
  }
}

}  // namespace

void linear(float* y, const float* x, const WeightMatrix& w, int64_t T, bool accumulate, Precision precision) {
  const int64_t K = w.cols, N = w.rows;
  if (T == 0 || N == 0) return;
  if (use_bf16(precision, T)) {
    bf16_panels(x, T * K, w, [&](int64_t r0, int64_t rows, const uint16_t* xb, const uint16_t* panel) {
      gemm_bf16(y + r0, N, xb, K, panel, K, T, rows, K, /*trans_b=*/true, accumulate);
    });
    return;
  }
  if (w.is_f32()) return matmul_nt(y, x, reinterpret_cast<const float*>(w.data), T, K, N, accumulate);
  if (T < kLinearGemmRows && !w.nf4 && vec_dot_supported(w.type)) return linear_vec_dot(y, x, w, T, accumulate);
  if (on_vnni_kernels(w, T, precision)) {
    const LinearOut out{y, &w};
    return vnni_job({&out, 1}, quantized_activations(x, T, K), accumulate);
  }
  std::vector<float>& panel = panel_buffer(w);
  const int64_t P = panel_rows(w);
  for (int64_t r0 = 0; r0 < N; r0 += P) {
    const int64_t rows = std::min(P, N - r0);
    dequantize_panel(panel.data(), w, r0, rows);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T), static_cast<int>(rows),
                static_cast<int>(K), 1.0f, x, static_cast<int>(K), panel.data(), static_cast<int>(K),
                accumulate ? 1.0f : 0.0f, y + r0, static_cast<int>(N));
  }
}

void linear_multi(std::initializer_list<LinearOut> outs, const float* x, int64_t T, Precision precision) {
  // Every weight on the integer kernels (decoding, generation prompts): one job, one activation quantisation.
  bool fused = T > 0;
  int64_t K = -1;
  for (const LinearOut& o : outs) {
    fused = fused && (K < 0 || K == o.w->cols) && on_vnni_kernels(*o.w, T, precision);
    K = o.w->cols;
  }
  if (!fused) {
    for (const LinearOut& o : outs) linear(o.y, x, *o.w, T, false, precision);
    return;
  }
  vnni_job({outs.begin(), outs.size()}, quantized_activations(x, T, K), false);
}

void linear_backward_input(float* dx, const float* dy, const WeightMatrix& w, int64_t T, bool accumulate,
                           Precision precision) {
  const int64_t K = w.cols, N = w.rows;
  if (T == 0) return;
  if (N == 0) {
    if (!accumulate) std::fill(dx, dx + T * K, 0.0f);
    return;
  }
  if (use_bf16(precision, T)) {
    bf16_panels(dy, T * N, w, [&](int64_t r0, int64_t rows, const uint16_t* dyb, const uint16_t* panel) {
      gemm_bf16(dx, K, dyb + r0, N, panel, K, T, K, rows, /*trans_b=*/false, accumulate || r0 > 0);
    });
    return;
  }
  if (w.is_f32()) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(T), static_cast<int>(K),
                static_cast<int>(N), 1.0f, dy, static_cast<int>(N), reinterpret_cast<const float*>(w.data),
                static_cast<int>(K), accumulate ? 1.0f : 0.0f, dx, static_cast<int>(K));
    return;
  }
  std::vector<float>& panel = panel_buffer(w);
  const int64_t P = panel_rows(w);
  for (int64_t r0 = 0; r0 < N; r0 += P) {
    const int64_t rows = std::min(P, N - r0);
    dequantize_panel(panel.data(), w, r0, rows);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(T), static_cast<int>(K),
                static_cast<int>(rows), 1.0f, dy + r0, static_cast<int>(N), panel.data(), static_cast<int>(K),
                (accumulate || r0 > 0) ? 1.0f : 0.0f, dx, static_cast<int>(K));
  }
}

void weight_row(float* out, const WeightMatrix& w, int64_t r) {
  if (w.nf4) return nf4_dequantize_range(*w.nf4, r * w.cols, w.cols, out);
  dequantize_row(w.type, w.row(r), out, w.cols);
}

namespace ref {

void linear(float* y, const float* x, const WeightMatrix& w, int64_t T, bool accumulate) {
  const int64_t K = w.cols, N = w.rows;
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    weight_row(row.data(), w, n);
    for (int64_t t = 0; t < T; ++t) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x[t * K + k]) * row[k];
      float& out = y[t * N + n];
      out = static_cast<float>(accumulate ? out + acc : acc);
    }
  }
}

}  // namespace ref
}  // namespace scitune::ops
