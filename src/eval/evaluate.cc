#include "eval/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "model/generate_batch.h"
#include "util/error.h"

namespace scitune {

EvalItem make_eval_item(const TokenizedExample& e, const Tokenizer& tok) {
  EvalItem it;
  it.example = &e;
  it.id = e.source;
  const size_t colon = e.source.rfind(':');
  it.source = colon == std::string::npos ? e.source : e.source.substr(0, colon);
  const size_t slash = it.source.find_last_of('/');
  if (slash != std::string::npos) it.source = it.source.substr(slash + 1);
  size_t first = 0;
  while (first < e.labels.size() && e.labels[first] == kIgnoreLabel) ++first;
  if (first == 0 || first == e.labels.size()) return it;  // no prompt before the answer: loss only
  size_t end = first;
  while (end < e.labels.size() && e.labels[end] != kIgnoreLabel) ++end;
  std::vector<int32_t> answer(e.input_ids.begin() + static_cast<int64_t>(first), e.input_ids.begin() + static_cast<int64_t>(end));
  for (const char* eot : {"<end_of_turn>", "<turn|>", "<eos>"})  // the trained end of turn is not part of the answer
    if (const auto id = tok.token_to_id(eot)) {
      const auto pos = std::find(answer.begin(), answer.end(), *id);
      answer.erase(pos, answer.end());
    }
  it.prompt.assign(e.input_ids.begin(), e.input_ids.begin() + static_cast<int64_t>(first));
  it.reference = tok.decode(answer, /*skip_special_tokens=*/true);
  return it;
}

nlohmann::ordered_json EvalRow::to_json() const {
  nlohmann::ordered_json j;
  j["split"] = split;
  j["source"] = source;
  j["examples"] = examples;
  j["tokens"] = tokens;
  j["loss"] = loss;
  j["perplexity"] = perplexity;
  if (answered > 0) {
    j["answered"] = answered;
    auto put = [&](const char* name, const BootstrapCi& c) {
      j[name] = c.mean;
      j[std::string(name) + "_ci"] = {c.lower, c.upper};
    };
    put("exact_match", exact_match);
    put("token_f1", token_f1);
    put("rouge_l", rouge_l);
  }
  return j;
}

namespace {

struct Sums {
  double loss = 0;
  int64_t tokens = 0, examples = 0;
  std::vector<double> em, f1, rl;
};

LossResult batch_loss(Gemma3Lora& scorer, const std::vector<const TokenizedExample*>& batch) {
  const int64_t B = static_cast<int64_t>(batch.size());
  int64_t T = 0;
  for (const TokenizedExample* e : batch) T = std::max<int64_t>(T, static_cast<int64_t>(e->input_ids.size()));
  const int32_t pad = static_cast<int32_t>(scorer.config().pad_token_id.value_or(0));
  std::vector<int32_t> ids(static_cast<size_t>(B * T), pad);
  std::vector<int64_t> labels(static_cast<size_t>(B * T), kIgnoreLabel), lengths(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    std::copy(batch[b]->input_ids.begin(), batch[b]->input_ids.end(), ids.begin() + b * T);
    std::copy(batch[b]->labels.begin(), batch[b]->labels.end(), labels.begin() + b * T);
    lengths[static_cast<size_t>(b)] = static_cast<int64_t>(batch[b]->input_ids.size());
  }
  TrainOptions opt;
  opt.training = false;
  return scorer.step(ids, lengths, labels, B, T, 0.0f, false, opt);
}

EvalRow make_row(const std::string& split, const std::string& source, const Sums& s, const EvalSettings& st) {
  EvalRow r;
  r.split = split;
  r.source = source;
  r.examples = s.examples;
  r.tokens = s.tokens;
  r.loss = s.tokens ? s.loss / static_cast<double>(s.tokens) : 0.0;
  r.perplexity = std::exp(r.loss);
  r.answered = static_cast<int64_t>(s.em.size());
  if (r.answered > 0) {
    r.exact_match = bootstrap_ci(s.em, st.bootstrap_resamples, st.bootstrap_seed);
    r.token_f1 = bootstrap_ci(s.f1, st.bootstrap_resamples, st.bootstrap_seed);
    r.rouge_l = bootstrap_ci(s.rl, st.bootstrap_resamples, st.bootstrap_seed);
  }
  return r;
}

}  // namespace

SplitEval evaluate_split(const std::string& split, const std::vector<TokenizedExample>& examples, Gemma3& model,
                         Gemma3Lora& scorer, const Tokenizer& tok, const EvalSettings& s,
                         const std::function<void(int64_t, int64_t)>& progress) {
  if (s.batch_size < 1) fail("eval: batch size must be at least 1");
  SplitEval out;
  std::vector<EvalItem> items;
  items.reserve(examples.size());
  for (const TokenizedExample& e : examples) items.push_back(make_eval_item(e, tok));
  std::map<std::string, Sums> by_source;
  Sums all;
  const int64_t n = static_cast<int64_t>(items.size());
  const int64_t total = n * (s.generate ? 2 : 1);
  int64_t done = 0;
  // Loss, per example (one batch holds one source's examples only, so per-source sums are exact).
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].source < items[b].source; });
  for (size_t i = 0; i < order.size();) {
    std::vector<const TokenizedExample*> batch;
    const std::string& src = items[order[i]].source;
    while (i < order.size() && static_cast<int64_t>(batch.size()) < s.batch_size && items[order[i]].source == src)
      batch.push_back(items[order[i++]].example);
    const LossResult r = batch_loss(scorer, batch);
    for (Sums* sums : {&by_source[src], &all}) {
      sums->loss += r.loss_sum;
      sums->tokens += r.count;
      sums->examples += static_cast<int64_t>(batch.size());
    }
    done += static_cast<int64_t>(batch.size());
    if (progress) progress(done, total);
  }
  if (s.generate) {
    GenerateOptions go;
    go.max_new_tokens = s.max_new_tokens;
    go.stop_ids = s.stop_ids;
    go.sampling = s.sampling;
    go.vocab_limit = s.vocab_limit;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<size_t> answerable;
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i].answerable()) answerable.push_back(i);
      else ++done;
    for (size_t k = 0; k < answerable.size(); k += static_cast<size_t>(s.batch_size)) {
      const size_t end = std::min(answerable.size(), k + static_cast<size_t>(s.batch_size));
      std::vector<std::vector<int32_t>> prompts;
      for (size_t j = k; j < end; ++j) prompts.push_back(items[answerable[j]].prompt);
      // Seeds follow the example's position in the split, not its batch, so --batch does not change samples.
      go.sampling.seed = s.sampling.seed + k;
      const std::vector<GenerateResult> res = generate_batch(model, prompts, go);
      for (size_t j = k; j < end; ++j) {
        const EvalItem& it = items[answerable[j]];
        EvalPrediction p;
        p.split = split;
        p.source = it.source;
        p.id = it.id;
        p.reference = it.reference;
        p.prediction = tok.decode(res[j - k].ids, /*skip_special_tokens=*/true);
        out.generated_tokens += static_cast<int64_t>(res[j - k].ids.size());
        p.exact_match = exact_match(p.prediction, p.reference);
        p.token_f1 = token_f1(p.prediction, p.reference);
        p.rouge_l = rouge_l(p.prediction, p.reference, s.stemming).fmeasure;
        for (Sums* sums : {&by_source[it.source], &all}) {
          sums->em.push_back(p.exact_match);
          sums->f1.push_back(p.token_f1);
          sums->rl.push_back(p.rouge_l);
        }
        out.predictions.push_back(std::move(p));
      }
      done += static_cast<int64_t>(end - k);
      if (progress) progress(done, total);
    }
    out.generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  out.rows.push_back(make_row(split, "all", all, s));
  if (by_source.size() > 1)
    for (const auto& [src, sums] : by_source) out.rows.push_back(make_row(split, src, sums, s));
  return out;
}

}  // namespace scitune
