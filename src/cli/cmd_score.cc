// `scitune score`: the model's logits (and loss) for given token ids, in safetensors, for comparing with
// transformers or llama.cpp tensor by tensor.
//   input:  input_ids int64 [B,T]; optional labels int64 [B,T] (-100 = ignored); optional attention_mask
//           int64 [B,T] (1 = token, 0 = right padding)
//   output: logits f32 [B,T,V]; loss f32 [1] when labels are given (HF: mean shifted cross-entropy)
// --adapter DIR applies a PEFT LoRA adapter; --grads (needs labels) adds grad.<adapter tensor> f32: d loss / d param.
#include <filesystem>
#include <optional>

#include "cli/commands.h"
#include "io/safetensors.h"
#include "model/load.h"
#include "train/gemma3_lora.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct ScoreOptions {
  std::string model, input, output, adapter;
  bool force = false, grads = false;
};

std::vector<int64_t> read_ids(const SafetensorsFile& f, const char* name, int64_t B, int64_t T) {
  TensorView v = f.tensor(name);
  if (v.dtype() != DType::I64)
    fail(f.path().string() + ": " + name + " has dtype " + std::string(dtype_name(v.dtype())) + ", expected I64");
  auto shape = v.shape();
  if (shape.size() != 2 || (B >= 0 && (shape[0] != B || shape[1] != T)))
    fail(f.path().string() + ": " + name + " has shape " + shape_to_string(shape) + ", expected [B, T]" +
         (B >= 0 ? " = [" + std::to_string(B) + ", " + std::to_string(T) + "]" : ""));
  auto ids = v.as<int64_t>();
  return {ids.begin(), ids.end()};
}

void run_score(const ScoreOptions& o) {
  if (!o.force && std::filesystem::exists(o.output))  // before the work, not after it
    fail(o.output + ": already exists (refusing to overwrite; pass --force to replace it)");
  SafetensorsFile in(o.input);
  auto ids64 = read_ids(in, "input_ids", -1, -1);
  const int64_t B = in.tensor("input_ids").shape()[0], T = in.tensor("input_ids").shape()[1];
  if (B == 0 || T == 0) fail(o.input + ": input_ids is empty");
  std::vector<int64_t> lengths(B, T);
  if (in.contains("attention_mask")) {
    auto mask = read_ids(in, "attention_mask", B, T);
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t m = mask[b * T + t];
        if (m != 0 && m != 1) fail(o.input + ": attention_mask values must be 0 or 1");
        if (m == 1 && n != t) fail(o.input + ": attention_mask row " + std::to_string(b) + " is not right-padded");
        n += m;
      }
      lengths[b] = n;
    }
  }
  if (o.grads && o.adapter.empty()) fail("--grads needs --adapter (gradients are for the adapter's tensors)");
  if (o.grads && !in.contains("labels")) fail(o.input + ": --grads needs labels in the input");
  LoadedGemma3 model = load_model_fp32(o.model);
  const int64_t V = model.config.vocab_size;
  std::vector<int32_t> ids(ids64.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids64[i] < 0 || ids64[i] >= V)
      fail(o.input + ": input_ids[" + std::to_string(i) + "] = " + std::to_string(ids64[i]) +
           " is outside the vocabulary [0, " + std::to_string(V) + ")");
    ids[i] = static_cast<int32_t>(ids64[i]);
  }
  if (T > model.config.max_position_embeddings)
    fail(o.input + ": sequence length " + std::to_string(T) + " exceeds the model's context of " +
         std::to_string(model.config.max_position_embeddings));
  std::vector<float> logits(static_cast<size_t>(B * T * V));
  std::optional<LoraAdapter> adapter;
  if (!o.adapter.empty()) adapter = LoraAdapter::load(o.adapter, model.config);
  std::optional<std::vector<int64_t>> labels;
  if (in.contains("labels")) labels = read_ids(in, "labels", B, T);
  if (adapter) {
    Gemma3Lora net(model.config, model.weights, &*adapter);
    net.logits(ids, lengths, B, T, logits.data());
  } else {
    Gemma3 net(model.config, model.weights);
    net.forward(ids, lengths, B, T, logits.data());
  }

  std::vector<TensorData> out;
  out.push_back({{"logits", DType::F32, {B, T, V}},
                 {reinterpret_cast<const uint8_t*>(logits.data()), logits.size() * sizeof(float)}});
  float loss = 0;
  if (labels) {
    int64_t count = 0;
    loss = static_cast<float>(causal_lm_loss(logits.data(), labels->data(), B, T, V, &count));
    out.push_back({{"loss", DType::F32, {1}}, {reinterpret_cast<const uint8_t*>(&loss), sizeof loss}});
    if (verbosity() > 0) std::fprintf(stderr, "loss %.6f over %lld label tokens\n", loss, static_cast<long long>(count));
    if (o.grads && count > 0) {
      Gemma3Lora net(model.config, model.weights, &*adapter);
      TrainOptions eval;
      eval.training = false;  // the gradient of the loss written above: no dropout
      adapter->zero_grad();
      net.step(ids, lengths, *labels, B, T, 1.0f / static_cast<float>(count), /*backward=*/true, eval);
    }
  }
  if (o.grads)
    for (const LoraModule& m : adapter->modules())
      for (bool is_a : {true, false}) {
        const std::vector<float>& g = is_a ? m.dA : m.dB;
        out.push_back({{"grad." + LoraAdapter::tensor_name(m, is_a), DType::F32,
                        is_a ? std::vector<int64_t>{m.r, m.in} : std::vector<int64_t>{m.out, m.r}},
                       {reinterpret_cast<const uint8_t*>(g.data()), g.size() * sizeof(float)}});
      }
  write_safetensors(o.output, out, {{"format", "pt"}, {"producer", "scitune score"}},
                    o.force ? Overwrite::kYes : Overwrite::kNo);
}

}  // namespace

void register_score(CLI::App& app) {
  auto o = std::make_shared<ScoreOptions>();
  CLI::App* cmd = app.add_subcommand("score", "Logits and loss of a model for token ids given in safetensors");
  cmd->add_option("--model", o->model, "HF model folder or gemma3 GGUF")->required();
  cmd->add_option("--input", o->input, "safetensors with input_ids [B,T] (+ labels, attention_mask)")->required();
  cmd->add_option("--output", o->output, "safetensors to write: logits [B,T,V] (+ loss)")->required();
  cmd->add_option("--adapter", o->adapter, "PEFT LoRA adapter folder to apply");
  cmd->add_flag("--grads", o->grads, "Also write grad.<adapter tensor> (needs --adapter and labels)");
  cmd->add_flag("--force", o->force, "Replace the output file if it exists");
  cmd->callback([o] { run_score(*o); });
}

}  // namespace scitune::cli
