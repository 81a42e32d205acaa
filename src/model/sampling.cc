#include "model/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace scitune {

SamplingOptions sampling_options_from(const GenerationDefaults& g, uint64_t seed) {
  SamplingOptions o;
  o.do_sample = g.do_sample;
  o.temperature = g.temperature;
  o.top_k = g.top_k;
  o.top_p = g.top_p;
  o.min_p = g.min_p;
  o.repetition_penalty = g.repetition_penalty;
  o.seed = seed;
  return o;
}

void check_sampling_options(const SamplingOptions& o, const std::string& where) {
  auto bad = [&](const char* field, double v, const char* expected) {
    fail(where + ": " + field + " = " + std::to_string(v) + ", expected " + expected);
  };
  if (!(std::isfinite(o.temperature) && o.temperature >= 0)) bad("temperature", o.temperature, "a number >= 0");
  if (o.top_k < 0) bad("top_k", static_cast<double>(o.top_k), "an integer >= 0");
  if (!(std::isfinite(o.top_p) && o.top_p > 0 && o.top_p <= 1)) bad("top_p", o.top_p, "a number in (0, 1]");
  if (!(std::isfinite(o.min_p) && o.min_p >= 0 && o.min_p <= 1)) bad("min_p", o.min_p, "a number in [0, 1]");
  if (!(std::isfinite(o.repetition_penalty) && o.repetition_penalty > 0))
    bad("repetition_penalty", o.repetition_penalty, "a number > 0");
}

Sampler::Sampler(const SamplingOptions& options) : o_(options), rng_(options.seed) { check_sampling_options(o_); }

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

void Sampler::apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history) {
  const int64_t V = static_cast<int64_t>(logits.size());
  if (static_cast<int64_t>(seen_.size()) != V) seen_.assign(static_cast<size_t>(V), 0);
  const float p = static_cast<float>(o_.repetition_penalty);
  for (int32_t id : history) {
    if (id < 0 || id >= V)
      fail("sampling: history token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(V) +
           ")");
    if (seen_[id]) continue;  // HF gathers and scatters: each distinct id is penalised once
    seen_[id] = 1;
    float& l = logits[id];
    l = l < 0 ? l * p : l / p;
  }
  for (int32_t id : history) seen_[id] = 0;
}

namespace {

// Logit descending, then id ascending: a total order, so ties resolve the same way every time.
bool ranks_before(float la, int32_t ia, float lb, int32_t ib) { return la > lb || (la == lb && ia < ib); }

}  // namespace

void Sampler::top_k_candidates(std::span<const float> logits) {
  const size_t V = logits.size();
  const size_t k = std::min(static_cast<size_t>(o_.top_k), V);
  // Pass 1: the k-th largest logit, with a heap of the k best whose front is the worst of them.
  auto worse_on_top = [](const Candidate& a, const Candidate& b) { return ranks_before(a.logit, a.id, b.logit, b.id); };
  cand_.clear();
  for (size_t i = 0; i < V; ++i) {
    const float l = logits[i];
    if (cand_.size() < k) {
      cand_.push_back({l, static_cast<int32_t>(i)});
      std::push_heap(cand_.begin(), cand_.end(), worse_on_top);
    } else if (l > cand_.front().logit) {
      std::pop_heap(cand_.begin(), cand_.end(), worse_on_top);
      cand_.back() = {l, static_cast<int32_t>(i)};
      std::push_heap(cand_.begin(), cand_.end(), worse_on_top);
    }
  }
  const float kth = cand_.front().logit;
  // Pass 2: HF removes only logits < the k-th value, so ties with it stay.
  cand_.clear();
  for (size_t i = 0; i < V; ++i)
    if (logits[i] >= kth && logits[i] > -std::numeric_limits<float>::infinity())
      cand_.push_back({logits[i], static_cast<int32_t>(i)});
}

void Sampler::all_candidates(std::span<const float> logits) {
  cand_.clear();
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] > -std::numeric_limits<float>::infinity()) cand_.push_back({logits[i], static_cast<int32_t>(i)});
}

void Sampler::keep_nucleus() {
  // Keep the first K candidates in rank order, K the smallest count whose mass reaches top_p. Found by a
  // quickselect on mass (expected linear time) rather than sorting a 262k vocabulary: split at the median,
  // keep the upper half whole when its mass does not reach top_p yet, else look inside it.
  auto by_rank = [](const Candidate& a, const Candidate& b) { return ranks_before(a.logit, a.id, b.logit, b.id); };
  auto at = [&](size_t i) { return cand_.begin() + static_cast<ptrdiff_t>(i); };
  // First narrow with cheap passes: {p >= t} is a prefix in rank order (p grows with the logit), so once its
  // mass reaches top_p the nucleus lies inside it. A peaked distribution narrows to a few hundred tokens.
  if (cand_.size() > 4096) {
    double pmax = 0;
    for (const Candidate& c : cand_) pmax = std::max(pmax, c.p);
    for (double t = pmax / 16; t * static_cast<double>(cand_.size()) > 1e-3; t /= 16) {
      double mass = 0;
      for (const Candidate& c : cand_) mass += c.p >= t ? c.p : 0.0;
      if (mass >= o_.top_p) {
        std::erase_if(cand_, [t](const Candidate& c) { return c.p < t; });
        break;
      }
    }
  }
  size_t lo = 0, hi = cand_.size();
  double above = 0;  // mass of [0, lo), every one of which ranks before [lo, hi)
  while (hi - lo > 64) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(at(lo), at(mid), at(hi), by_rank);
    double mass = 0;
    for (size_t i = lo; i < mid; ++i) mass += cand_[i].p;
    if (above + mass >= o_.top_p) {
      hi = mid;  // K <= mid; [mid, n) is dropped
    } else {
      above += mass;
      lo = mid;
    }
  }
  std::sort(at(lo), at(hi), by_rank);
  size_t keep = lo;
  while (keep < hi && (keep == 0 || above < o_.top_p)) above += cand_[keep++].p;
  cand_.resize(keep);
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  if (logits.empty()) fail("sampling: empty logits");
  bool any_finite = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == std::numeric_limits<float>::infinity())
      fail("sampling: the logit of token " + std::to_string(i) + " is " + (std::isnan(l) ? "nan" : "inf") +
           " (the model produced a non-finite value)");
    any_finite = any_finite || l > -std::numeric_limits<float>::infinity();
  }
  if (!any_finite) fail("sampling: every logit is -inf, no token can be chosen");
  if (o_.repetition_penalty != 1.0) apply_repetition_penalty(logits, history);

  const float t = static_cast<float>(o_.temperature);
  if (o_.greedy() || t == 0) {  // a temperature below float's range is greedy too
    size_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i)
      if (logits[i] > logits[best]) best = i;
    return static_cast<int32_t>(best);
  }

  if (o_.top_k > 0 && static_cast<size_t>(o_.top_k) < logits.size())
    top_k_candidates(logits);
  else
    all_candidates(logits);
  // Softmax of logits / t in float, as HF's fp32 softmax. (l - max) / t is never NaN and at worst -inf.
  float mx = -std::numeric_limits<float>::infinity();
  for (const Candidate& c : cand_) mx = std::max(mx, c.logit);
  double sum = 0;
  for (Candidate& c : cand_) sum += c.p = std::exp((c.logit - mx) / t);
  for (Candidate& c : cand_) c.p /= sum;

  if (o_.top_p < 1.0) keep_nucleus();
  if (o_.min_p > 0) {
    double pmax = 0;
    for (const Candidate& c : cand_) pmax = std::max(pmax, c.p);
    const double threshold = o_.min_p * pmax;  // the ratio test HF does after renormalising: scale-free
    std::erase_if(cand_, [&](const Candidate& c) { return c.p < threshold; });
  }

  double total = 0;
  for (const Candidate& c : cand_) total += c.p;
  const double u = uniform() * total;
  double acc = 0;
  for (const Candidate& c : cand_) {
    acc += c.p;
    if (u < acc) return c.id;
  }
  return cand_.back().id;  // u within rounding of the total
}

}  // namespace scitune
