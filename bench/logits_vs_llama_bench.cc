// Our next-token distributions against llama.cpp's, position by position, on the tokens of a llama-perplexity
// logits file (not a timing benchmark; it lives here to build with the other side-by-side tools):
//   oracle:  llama-perplexity -m MODEL.gguf -f TEXT -c CTX --kl-divergence-base BASE.kld
//   here:    logits_vs_llama_bench MODEL BASE.kld [--path prompt|cached] [--chunks N] [--quant q8_0|q4_0]
//                                  [--write-kld OURS.kld] [--show N]
// BASE.kld (tools/perplexity/perplexity.cpp): "_logits_", int32 n_ctx, n_vocab, n_chunk, int32 tokens
// [n_chunk * n_ctx], then for each chunk and each scored position (first = n_ctx/2 .. n_ctx-2) one row of
// nv = 2*((n_vocab+1)/2) + 4 uint16: float scale, float min_log_prob, then log p[i] = min_log_prob + scale*q[i]
// quantised to 16 bits over the 16 nats below the top (q = 0 at or below that floor).
// Each chunk runs as llama-perplexity runs it: on its own, first token replaced by BOS (the file's token 0).
//   --path prompt   one batched forward over the chunk (what perplexity / score use)
//   --path cached   the KV-cache path generate uses: the first half as a prompt, then one token at a time
//   --emulate-llama 1  (prompt path) round every matmul input as llama.cpp's CPU backend does (see below)
// Prints a JSON line: top-1 agreement, |delta log p| over llama's 16-nat window, KL(llama || ours), both
// perplexities on the scored tokens, and the disagreeing positions with both margins.
// --write-kld writes our rows in the same format, so llama-perplexity --kl-divergence-base OURS.kld
// --kl-divergence can compute its own statistics of llama.cpp against us.
//
//   logits_vs_llama_bench MODEL --chat LLAMA.txt      (LLAMA.txt from tools/oracle/llama_chat_greedy.py)
// Greedy chat replies: feeds llama.cpp's prompt ids and greedy reply ids through our generate path (the prompt
// through the KV cache at once, then one token at a time, LM head on one row) and reports, per prompt, whether
// our argmax equals llama.cpp's token at every step (then our greedy reply is the same token sequence) or the
// first step where it does not, with both sides' margins there. One JSON line per prompt.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/generate.h"
#include "model/load.h"
#include "quant/quants.h"
#include "util/half.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/mapped_file.h"

using namespace scitune;

namespace {

struct KldFile {
  MappedFile map;
  int32_t n_ctx = 0, n_vocab = 0, n_chunk = 0, first = 0, n_scored = 0;
  size_t nv = 0;
  const int32_t* tokens = nullptr;
  const uint8_t* rows = nullptr;  // [n_chunk][n_scored][nv] uint16, unaligned-safe reads via memcpy

  explicit KldFile(const std::string& path) : map(path) {
    const uint8_t* p = map.data();
    if (map.size() < 20 || std::memcmp(p, "_logits_", 8) != 0) fail(path + ": not a llama-perplexity logits file");
    std::memcpy(&n_ctx, p + 8, 4);
    std::memcpy(&n_vocab, p + 12, 4);
    std::memcpy(&n_chunk, p + 16, 4);
    if (n_ctx < 4 || n_vocab < 2 || n_chunk < 1) fail(path + ": bad header");
    first = n_ctx / 2;
    n_scored = n_ctx - 1 - first;
    nv = 2 * ((static_cast<size_t>(n_vocab) + 1) / 2) + 4;
    const size_t want = 20 + size_t(n_chunk) * n_ctx * 4 + size_t(n_chunk) * n_scored * nv * 2;
    if (map.size() != want)
      fail(path + ": " + std::to_string(map.size()) + " bytes, header implies " + std::to_string(want));
    tokens = reinterpret_cast<const int32_t*>(p + 20);
    rows = p + 20 + size_t(n_chunk) * n_ctx * 4;
  }
  // Dequantised log-probabilities of one scored row.
  void row(int64_t chunk, int64_t j, std::vector<float>& lp, std::vector<uint16_t>& q) const {
    const uint8_t* r = rows + (size_t(chunk) * n_scored + j) * nv * 2;
    float hdr[2];
    std::memcpy(hdr, r, 8);
    q.resize(n_vocab);
    std::memcpy(q.data(), r + 8, size_t(n_vocab) * 2);
    lp.resize(n_vocab);
    for (int32_t i = 0; i < n_vocab; ++i) lp[i] = hdr[1] + hdr[0] * q[i];
  }
};

// llama.cpp's log_softmax row packing (perplexity.cpp), so --write-kld files read back as llama's own.
void pack_row(const float* logits, int32_t V, uint16_t* out) {
  float mx = logits[0], mn = logits[0];
  for (int32_t i = 1; i < V; ++i) mx = std::max(mx, logits[i]), mn = std::min(mn, logits[i]);
  mn = std::max(mn, mx - 16);
  double sum = 0;
  for (int32_t i = 0; i < V; ++i) sum += std::exp(logits[i] - mx);
  const float lse = static_cast<float>(std::log(sum));
  const float hdr[2] = {(mx - mn) / 65535.f, mn - mx - lse};
  std::memcpy(out, hdr, 8);
  uint16_t* q = out + 4;
  if (hdr[0] == 0) {
    std::memset(q, 0, size_t(V) * 2);
    return;
  }
  const float inv = 1 / hdr[0];
  for (int32_t i = 0; i < V; ++i) q[i] = logits[i] > mn ? static_cast<uint16_t>(std::lrintf(inv * (logits[i] - mn))) : 0;
}

struct Stats {
  int64_t positions = 0, agree = 0, agree_tie = 0, window = 0;
  double sum_abs = 0, max_abs = 0, sum_kl = 0, max_kl = 0, nll_ours = 0, nll_llama = 0, sum_dtarget = 0, max_dtarget = 0;
  std::vector<std::string> diffs;
};

// --emulate-llama: what llama.cpp's CPU backend does to activations before each matrix product, added to our
// fp32 prompt path: x is rounded to the weight type's vec_dot partner (Q8_0 per 32 values for Q8_0/Q5_0/Q4_0,
// Q8_K per 256 for K-quants, f16 for f16 weights), and y = W x + W (round(x) - x) = W round(x).
// An experiment to locate a gap, not a mode of the product.
void round_like_llama(GgmlType wt, const float* x, float* out, int64_t rows, int64_t cols) {
  if (wt == GgmlType::F16) {
    for (int64_t i = 0; i < rows * cols; ++i) out[i] = fp16_to_fp32(fp32_to_fp16(x[i]));
    return;
  }
  const GgmlType at = vec_dot_activation_type(wt);
  if (at == GgmlType::F32) {
    std::copy(x, x + rows * cols, out);
    return;
  }
  std::vector<uint8_t> buf(ggml_row_size(at, static_cast<uint64_t>(cols)));
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(at, x + r * cols, buf.data(), cols);
    dequantize_row(at, buf.data(), out + r * cols, cols);
  }
}

void emulate_llama(Gemma3& net, const Gemma3Weights& w) {
  net.set_projection_hook([&w](int64_t layer, int proj, const float* x, float* y, int64_t N) {
    const Gemma3LayerWeights& lw = w.layers[layer];
    const WeightMatrix* mats[] = {&lw.q, &lw.k, &lw.v, &lw.o, &lw.gate, &lw.up, &lw.down};
    const WeightMatrix& m = *mats[proj];
    std::vector<float> d(static_cast<size_t>(N * m.cols));
    round_like_llama(m.type, x, d.data(), N, m.cols);
    for (size_t i = 0; i < d.size(); ++i) d[i] -= x[i];
    ops::linear(y, d.data(), m, N, /*accumulate=*/true);
  });
}

// --chat: llama.cpp's greedy replies teacher-forced through our decode path.
int run_chat(LoadedGemma3& m, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) fail(path + ": cannot open");
  Gemma3 net(m.config, m.weights);
  const int64_t V = m.config.vocab_size;
  std::vector<float> logits(V);
  int index = 0, same_all = 0, same_own = 0;
  char tag[8];
  long n_prompt = 0, n_reply = 0;
  while (std::fscanf(f, "%7s %ld %ld", tag, &n_prompt, &n_reply) == 3) {
    if (std::string(tag) != "P" || n_prompt < 1 || n_reply < 0 || n_prompt + n_reply > 100000) fail(path + ": bad block");
    std::vector<int32_t> prompt(n_prompt), reply(n_reply);
    for (auto& id : prompt)
      if (std::fscanf(f, "%d", &id) != 1) fail(path + ": short prompt");
    for (auto& id : reply)
      if (std::fscanf(f, "%d", &id) != 1) fail(path + ": short reply");
    std::vector<std::vector<std::pair<int32_t, float>>> top(n_reply);
    for (int c = std::fgetc(f); c != '\n' && c != EOF;) c = std::fgetc(f);  // the rest of the reply line
    char line[8192];
    for (auto& row : top) {
      if (!std::fgets(line, sizeof line, f)) fail(path + ": short top rows");
      for (char* p = line; *p && *p != '\n';) {
        char* end = nullptr;
        const long id = std::strtol(p, &end, 10);
        if (end == p || *end != ':') fail(path + ": bad top row");
        p = end + 1;
        const float lp = std::strtof(p, &end);
        if (end == p) fail(path + ": bad top row");
        row.emplace_back(static_cast<int32_t>(id), lp);
        p = end;
        while (*p == ' ') ++p;
      }
    }
    ++index;
    KvCache cache = net.new_cache(n_prompt + n_reply - 1);  // as generate sizes it (the last token never runs)
    auto h = net.forward_cached(prompt, cache);
    int64_t step = 0;
    for (; step < n_reply; ++step) {
      net.lm_head(logits.data(), h.data(), 1);
      const int32_t ours = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (ours != reply[step]) break;
      if (step + 1 < n_reply) h = net.forward_cached(std::span<const int32_t>(&reply[step], 1), cache);
    }
    // And free-running, through the library call `scitune generate --greedy` makes: our own reply ids.
    GreedyOptions g;
    g.max_new_tokens = std::max<long>(n_reply, 1);
    g.stop_ids = {1, 106};  // <eos>, <end_of_turn>
    const std::vector<int32_t> own = generate_greedy(net, prompt, g);
    int64_t own_diff = 0;
    while (own_diff < static_cast<int64_t>(std::min<size_t>(own.size(), reply.size())) && own[own_diff] == reply[own_diff])
      ++own_diff;
    const bool own_same = own.size() == reply.size() && own_diff == n_reply;
    same_own += own_same;
    if (step == n_reply) {
      ++same_all;
      std::printf("{\"prompt\":%d,\"steps\":%ld,\"same\":true,\"generate_same\":%s,\"generate_first_diff\":%lld}\n",
                  index, n_reply, own_same ? "true" : "false", static_cast<long long>(own_same ? -1 : own_diff));
      continue;
    }
    // Our top-2 in log-probabilities, and llama.cpp's margin between its token and ours (from its top list).
    const int32_t ours = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const int32_t theirs = reply[step];
    double sum = 0;
    const float mx = logits[ours];
    for (float l : logits) sum += std::exp(static_cast<double>(l - mx));
    const double lse = mx + std::log(sum);
    float llama_ours = -INFINITY;
    for (auto& [id, lp] : top[step])
      if (id == ours) llama_ours = lp;
    const float llama_theirs = top[step].empty() ? NAN : top[step][0].second;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "{\"prompt\":%d,\"steps\":%ld,\"same\":false,\"step\":%lld,\"llama_token\":%d,\"ours_token\":%d,"
                  "\"llama_logp\":[%.4f,%.4f],\"ours_logp\":[%.4f,%.4f],\"llama_margin\":%.4f,\"ours_margin\":%.4f,"
                  "\"generate_same\":%s,\"generate_first_diff\":%lld}",
                  index, n_reply, static_cast<long long>(step), theirs, ours, llama_theirs, llama_ours,
                  logits[theirs] - lse, logits[ours] - lse, llama_theirs - llama_ours, logits[ours] - logits[theirs],
                  own_same ? "true" : "false", static_cast<long long>(own_same ? -1 : own_diff));
    std::printf("%s\n", buf);
  }
  std::fclose(f);
  std::fprintf(stderr, "%d/%d replies token-identical under teacher forcing, %d/%d free-running (generate_greedy)\n",
               same_all, index, same_own, index);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: logits_vs_llama_bench MODEL BASE.kld [--path prompt|cached] [--chunks N] "
                         "[--quant q8_0|q4_0] [--write-kld OUT] [--show N] [--emulate-llama 1]\n"
                         "       logits_vs_llama_bench MODEL --chat LLAMA.txt\n");
    return 1;
  }
  std::string path_kind = "prompt", write_kld;
  bool emulate = false;
  int64_t max_chunks = 0, show = 20;
  LoadOptions opts;
  for (int i = std::string(argv[2]) == "--chat" ? 4 : 3; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--path") path_kind = v;
    else if (k == "--chunks") max_chunks = std::atoll(v.c_str());
    else if (k == "--quant") opts.quant = parse_quant_on_load(v);
    else if (k == "--write-kld") write_kld = v;
    else if (k == "--show") show = std::atoll(v.c_str());
    else if (k == "--emulate-llama") emulate = v == "1";
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 1;
    }
  }
  try {
    if (std::string(argv[2]) == "--chat") {
      if (argc < 4) fail("--chat needs a file from tools/oracle/llama_chat_greedy.py");
      LoadedGemma3 m = load_model(argv[1], opts);
      return run_chat(m, argv[3]);
    }
    if (path_kind != "prompt" && path_kind != "cached") fail("--path " + path_kind + ": expected prompt or cached");
    KldFile base(argv[2]);
    LoadedGemma3 m = load_model(argv[1], opts);
    Gemma3 net(m.config, m.weights);
    if (emulate && path_kind != "prompt") fail("--emulate-llama 1 needs --path prompt");
    if (emulate) emulate_llama(net, m.weights);
    const int32_t V = base.n_vocab, n_ctx = base.n_ctx, first = base.first;
    if (V != m.config.vocab_size)
      fail(std::string(argv[2]) + ": n_vocab " + std::to_string(V) + " but the model has " +
           std::to_string(m.config.vocab_size));
    const int64_t n_chunk = max_chunks > 0 ? std::min<int64_t>(max_chunks, base.n_chunk) : base.n_chunk;
    const int32_t bos = base.tokens[0];
    const int64_t C = m.config.hidden_size;

    std::unique_ptr<AtomicFile> out;
    std::vector<uint16_t> packed(base.nv, 0);
    if (!write_kld.empty()) {
      out = std::make_unique<AtomicFile>(write_kld, Overwrite::kYes);
      const int32_t hdr[3] = {n_ctx, V, static_cast<int32_t>(n_chunk)};
      out->write("_logits_", 8);
      out->write(hdr, sizeof hdr);
      out->write(base.tokens, size_t(n_chunk) * n_ctx * 4);
    }

    Stats s;
    // The LM head sees what the command under test gives it: perplexity 32 rows at a time (the sgemm path,
    // fp32 activations), generate one row (the vec_dot path on quantised activations).
    const int32_t head_rows = path_kind == "prompt" ? 32 : 1;
    std::vector<float> hidden(size_t(n_ctx) * C), block(size_t(head_rows) * V), ours(V), lp;
    std::vector<uint16_t> q;
    for (int64_t c = 0; c < n_chunk; ++c) {
      std::vector<int32_t> ids(base.tokens + c * n_ctx, base.tokens + (c + 1) * n_ctx);
      ids[0] = bos;
      if (path_kind == "prompt") {
        const std::vector<int64_t> len = {n_ctx};
        hidden = net.forward(ids, len, 1, n_ctx, nullptr);
      } else {
        KvCache cache = net.new_cache(n_ctx);
        auto h = net.forward_cached(std::span<const int32_t>(ids.data(), first + 1), cache);
        std::copy(h.begin(), h.end(), hidden.begin() + first * C);
        for (int32_t t = first + 1; t < n_ctx - 1; ++t) {
          h = net.forward_cached(std::span<const int32_t>(ids.data() + t, 1), cache);
          std::copy(h.begin(), h.end(), hidden.begin() + t * C);
        }
      }
      for (int32_t j = 0; j < base.n_scored; ++j) {
        const int32_t t = first + j, target = base.tokens[c * n_ctx + t + 1];
        if (j % head_rows == 0) {
          const int32_t rows = std::min(head_rows, base.n_scored - j);
          const float* h = hidden.data() + size_t(t) * C;
          std::vector<float> rounded;
          if (emulate) {  // llama.cpp's output matmul sees the final hidden state rounded the same way
            rounded.resize(size_t(rows) * C);
            round_like_llama(m.weights.embed.type, h, rounded.data(), rows, C);
            h = rounded.data();
          }
          net.lm_head(block.data(), h, rows);
        }
        const std::span<const float> logits(block.data() + size_t(j % head_rows) * V, V);
        if (out) {
          pack_row(logits.data(), V, packed.data());
          out->write(packed.data(), packed.size() * 2);
        }
        float mx = logits[0];
        for (int32_t i = 1; i < V; ++i) mx = std::max(mx, logits[i]);
        double sum = 0;
        for (int32_t i = 0; i < V; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
        const double lse = std::log(sum) + mx;
        for (int32_t i = 0; i < V; ++i) ours[i] = static_cast<float>(logits[i] - lse);
        base.row(c, j, lp, q);

        const int32_t top_l = static_cast<int32_t>(std::max_element(q.begin(), q.end()) - q.begin());
        const int32_t top_o = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        ++s.positions;
        s.agree += top_l == top_o;
        s.agree_tie += q[top_o] == q[top_l];  // equal within llama's 16-bit log-prob step
        if (top_l != top_o && static_cast<int64_t>(s.diffs.size()) < show) {
          char buf[256];
          std::snprintf(buf, sizeof buf,
                        "{\"chunk\":%lld,\"pos\":%d,\"llama_top\":%d,\"ours_top\":%d,\"llama_margin\":%.4f,"
                        "\"ours_margin\":%.4f}",
                        static_cast<long long>(c), t, top_l, top_o, lp[top_l] - lp[top_o], ours[top_o] - ours[top_l]);
          s.diffs.emplace_back(buf);
        }
        double kl = 0;
        for (int32_t i = 0; i < V; ++i) {
          if (lp[i] > -16.f)  // llama.cpp's KL cut (perplexity.cpp kl_divergence): the floor is not a probability
            kl += std::exp(static_cast<double>(lp[i])) * (static_cast<double>(lp[i]) - ours[i]);
          if (q[i] > 0) {  // inside llama's 16-nat window, where its log p is exact to 2.4e-4
            const double d = std::fabs(static_cast<double>(lp[i]) - ours[i]);
            s.sum_abs += d;
            s.max_abs = std::max(s.max_abs, d);
            ++s.window;
          }
        }
        s.sum_kl += kl;
        s.max_kl = std::max(s.max_kl, kl);
        s.nll_ours -= ours[target];
        s.nll_llama -= lp[target];
        const double dt = std::fabs(static_cast<double>(ours[target]) - lp[target]);
        s.sum_dtarget += dt;
        s.max_dtarget = std::max(s.max_dtarget, dt);
      }
      std::fprintf(stderr, "chunk %lld/%lld: top-1 %lld/%lld\n", static_cast<long long>(c + 1),
                   static_cast<long long>(n_chunk), static_cast<long long>(s.agree), static_cast<long long>(s.positions));
    }
    if (out) out->commit();
    const double n = static_cast<double>(s.positions);
    std::string diffs;
    for (const std::string& d : s.diffs) diffs += (diffs.empty() ? "" : ",") + d;
    std::printf(
        "{\"model\":\"%s\",\"path\":\"%s\",\"n_ctx\":%d,\"chunks\":%lld,\"positions\":%lld,\"top1_agree\":%lld,"
        "\"top1_pct\":%.3f,\"top1_agree_within_tie\":%lld,\"mean_abs_dlogp\":%.5f,\"max_abs_dlogp\":%.5f,"
        "\"mean_abs_dlogp_target\":%.5f,\"max_abs_dlogp_target\":%.5f,\"mean_kl\":%.6f,\"max_kl\":%.6f,"
        "\"ppl_ours\":%.4f,\"ppl_llama\":%.4f,\"ppl_rel_diff_pct\":%.4f,\"diffs\":[%s]}\n",
        argv[1], path_kind.c_str(), n_ctx, static_cast<long long>(n_chunk), static_cast<long long>(s.positions),
        static_cast<long long>(s.agree), 100.0 * s.agree / n, static_cast<long long>(s.agree_tie),
        s.sum_abs / std::max<double>(1, s.window), s.max_abs, s.sum_dtarget / n, s.max_dtarget, s.sum_kl / n, s.max_kl,
        std::exp(s.nll_ours / n), std::exp(s.nll_llama / n),
        100.0 * (std::exp(s.nll_ours / n) / std::exp(s.nll_llama / n) - 1), diffs.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
