// `scitune demo`: the main job on the real Gemma 3 270M that setup.sh fetched. Today it shows the base
// model answering held-out questions from the bundled science QA set; the LoRA fine-tune with a live loss
// curve and the after-answers arrive with the SFT trainer, and the demo says so rather than pretending.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "cli/commands.h"
#include "io/json_limits.h"
#include "model/generate.h"
#include "model/load.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/paths.h"

namespace scitune::cli {

extern const char* const kDemoScienceQa;

namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string model;
  int questions = 3;
  int64_t max_new_tokens = 48;
};

struct QaPair {
  std::string question, answer;
};

std::vector<QaPair> demo_pairs() {
  std::vector<QaPair> out;
  std::istringstream in(kDemoScienceQa);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const std::string where = "data/demo/science_qa.jsonl:" + std::to_string(n);
    nlohmann::json row = parse_json_strict(line, where);
    const auto& msgs = json_array(row.at("messages"), where + ": messages");
    if (msgs.size() != 2) fail(where + ": expected a user and an assistant message");
    out.push_back({json_string(msgs[0].at("content"), where), json_string(msgs[1].at("content"), where)});
  }
  return out;
}

void run_demo(const DemoOptions& o) {
  const fs::path model_path = o.model.empty() ? default_model_path() : fs::path(o.model);
  if (!fs::exists(model_path))
    fail(model_path.string() + ": model not found; run ./scripts/setup.sh (or scripts/fetch_model.sh) first");
  const auto pairs = demo_pairs();
  if (o.questions < 1 || o.questions >= static_cast<int>(pairs.size()))
    fail("--questions must be between 1 and " + std::to_string(pairs.size() - 1));
  const size_t n_train = pairs.size() - static_cast<size_t>(o.questions);

  std::printf("scitune demo\n  model: %s\n  data:  %zu science QA pairs (%zu for training, %d held out)\n\n",
              model_path.c_str(), pairs.size(), n_train, o.questions);
  auto t0 = std::chrono::steady_clock::now();
  Tokenizer tok = Tokenizer::load(model_path);
  LoadedGemma3 loaded = load_model(model_path);
  Gemma3 model(loaded.config, loaded.weights);
  std::printf("loaded Gemma 3 (%lld layers, hidden %lld, vocab %lld) in %.1f s\n\n",
              static_cast<long long>(loaded.config.num_hidden_layers),
              static_cast<long long>(loaded.config.hidden_size), static_cast<long long>(loaded.config.vocab_size),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  GreedyOptions gen;
  gen.max_new_tokens = o.max_new_tokens;
  for (int64_t id : loaded.config.eos_token_ids) gen.stop_ids.push_back(static_cast<int32_t>(id));
  if (auto eot = tok.token_to_id("<end_of_turn>")) gen.stop_ids.push_back(*eot);
  const ChatFormat format = detect_chat_format(tok);

  std::printf("== answers of the base model (before fine-tuning) ==\n");
  for (size_t i = n_train; i < pairs.size(); ++i) {
    ChatMessage user;
    user.role = "user";
    user.content = pairs[i].question;
    ChatOptions opts;
    opts.add_generation_prompt = true;
    ChatEncoding enc = encode_chat(tok, format, std::span<const ChatMessage>(&user, 1), opts);
    std::printf("\nQ: %s\nA: ", pairs[i].question.c_str());
    std::fflush(stdout);
    StreamDecoder stream(tok, /*skip_special_tokens=*/true);
    auto t1 = std::chrono::steady_clock::now();
    auto ids = generate_greedy(model, enc.ids, gen, [&](int32_t id) {
      std::fputs(stream.push(id).c_str(), stdout);
      std::fflush(stdout);
    });
    std::fputs(stream.finish().c_str(), stdout);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("\n   (%zu tokens, %.1f tok/s)   reference: %s\n", ids.size(), ids.size() / std::max(secs, 1e-9),
                pairs[i].answer.c_str());
  }
  std::printf(
      "\nFine-tuning step: not in this build yet. The LoRA trainer (live loss, answers after training) is the\n"
      "SFT-trainer work still open; until it lands, this demo stops after the base model's answers.\n");
}

}  // namespace

void register_demo(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run the main job on the real Gemma 3 270M fetched by setup.sh");
  cmd->add_option("--model", o->model, "gemma3 GGUF (default: the cached Gemma 3 270M Q4_K_M)");
  cmd->add_option("--questions", o->questions, "Held-out questions to answer")->capture_default_str();
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Longest answer, in tokens")->capture_default_str();
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace scitune::cli
