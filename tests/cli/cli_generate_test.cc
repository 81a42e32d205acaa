// `scitune generate` as a user runs it, against the same model driven through the library: greedy and seeded
// text, the chat wrapper, stop strings, and flag errors that name the flag.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "cli_run.h"
#include "model/generate.h"
#include "real_vocab_model.h"
#include "tokenizer/chat_template.h"

namespace scitune {
namespace {

using testing::run_cli;

// The argument quoted for sh.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class CliGenerate : public testing::RealVocabModel {
 protected:
  std::string text(const std::vector<int32_t>& ids) { return session().tok.decode(ids, /*skip_special_tokens=*/true); }
  std::vector<int32_t> greedy(const std::vector<int32_t>& prompt, int64_t n) {
    GreedyOptions o;
    o.max_new_tokens = n;
    o.stop_ids = session().stop_ids();
    return generate_greedy(session().net, prompt, o);
  }
  const std::string prompt_ = "The boiling point of water";
  std::vector<int32_t> prompt_ids() { return session().tok.encode(prompt_, true); }
};

TEST_F(CliGenerate, GreedyTextIsTheLibrarysGreedyDecoding) {
  EXPECT_EQ(session().stop_ids(), (std::vector<int32_t>{1, 106}));  // eos and <end_of_turn>
  const auto want = greedy(prompt_ids(), 12);
  auto r = run_cli("--quiet generate --model " + model() + " --prompt " + sh_quote(prompt_) +
                   " --greedy --max-new-tokens 12");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, text(want) + "\n");
}

TEST_F(CliGenerate, ChatFlagWrapsThePromptAsAUserTurn) {
  ChatMessage user;
  user.role = "user";
  user.content = prompt_;
  ChatOptions opts;
  opts.add_generation_prompt = true;
  const auto ids = encode_chat(session().tok, ChatFormat::kGemma3, std::span<const ChatMessage>(&user, 1), opts).ids;
  const auto want = greedy(ids, 8);
  auto r = run_cli("generate --model " + model() + " --tokenizer " + std::string(SCITUNE_SHARED_DIR) +
                   "/tokenizers/gemma3 --chat --prompt " + sh_quote(prompt_) + " --temperature 0 --max-new-tokens 8");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.rfind(text(want) + "\nprompt: " + std::to_string(ids.size()) + " tokens in", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("reply: " + std::to_string(want.size()) + " tokens"), std::string::npos) << r.out;
}

TEST_F(CliGenerate, ASeedGivesTheSameTextAsTheLibrary) {
  GenerateOptions o;
  o.max_new_tokens = 10;
  o.stop_ids = session().stop_ids();
  o.sampling = sampling_options_from(session().gen, 7);  // generation_config.json: top_k 64, top_p 0.95
  o.sampling.temperature = 1.5;
  o.vocab_limit = session().vocab_limit();
  const auto want = generate(session().net, prompt_ids(), o).ids;
  o.sampling.seed = 8;
  EXPECT_NE(generate(session().net, prompt_ids(), o).ids, want);
  auto r = run_cli("--quiet generate --model " + model() + " --prompt " + sh_quote(prompt_) +
                   " --seed 7 --temperature 1.5 --max-new-tokens 10");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, text(want) + "\n");
}

TEST_F(CliGenerate, StopStringEndsTheTextAndIsNotPrinted) {
  const auto ids = greedy(prompt_ids(), 16);
  const std::string full = text(ids);
  // A later token's text as the stop string.
  std::string stop;
  for (size_t k = 3; k < ids.size() && stop.empty(); ++k) {
    const std::string piece = text({ids[k]});
    if (piece.size() >= 2 && piece[0] != '-' && full.find(piece) != std::string::npos) stop = piece;
  }
  ASSERT_FALSE(stop.empty()) << full;
  auto r = run_cli("--quiet generate --model " + model() + " --prompt " + sh_quote(prompt_) +
                   " --greedy --max-new-tokens 16 --stop never-in-this-text --stop " + sh_quote(stop));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, full.substr(0, full.find(stop)) + "\n");
}

TEST_F(CliGenerate, APromptLongerThanTheContextIsAClearError) {
  const std::string path = ::testing::TempDir() + "long_prompt.txt";
  std::string prompt;
  for (int i = 0; i < 4100; ++i) prompt += "<table>";  // one token each
  std::ofstream(path) << prompt;
  auto r = run_cli("generate --model " + model() + " --prompt-file " + path);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("the prompt is 4101 tokens but the model's context is 4096"), std::string::npos) << r.out;
}

TEST(CliGenerateFlags, BadValuesAreUserErrorsNamingTheFlag) {
  for (auto [flags, name] :
       {std::pair{"--top-p 0", "--top-p"}, std::pair{"--top-p 1.5", "--top-p"},
        std::pair{"--temperature -1", "--temperature"}, std::pair{"--top-k -1", "--top-k"},
        std::pair{"--min-p 2", "--min-p"}, std::pair{"--repetition-penalty 0", "--repetition-penalty"},
        std::pair{"--max-new-tokens 0", "--max-new-tokens"}, std::pair{"--stop ''", "--stop"}}) {
    auto r = run_cli(std::string("generate --model /no/such/model --prompt hi ") + flags);
    EXPECT_EQ(r.rc, 1) << flags << "\n" << r.out;
    EXPECT_NE(r.out.find(name), std::string::npos) << flags << "\n" << r.out;
    if (std::string(name) == "--stop") continue;
    auto c = run_cli(std::string("chat --model /no/such/model ") + flags + " < /dev/null");
    EXPECT_EQ(c.rc, 1) << flags << "\n" << c.out;
    EXPECT_NE(c.out.find(name), std::string::npos) << flags << "\n" << c.out;
  }
  auto none = run_cli("generate --model /no/such/model");
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.out.find("--prompt or --prompt-file is required"), std::string::npos) << none.out;
  auto missing = run_cli("generate --model /no/such/model --prompt hi");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.out.find("/no/such/model: no such file or folder"), std::string::npos) << missing.out;
  auto help = run_cli("generate --help");
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("--repetition-penalty"), std::string::npos);
}

}  // namespace
}  // namespace scitune
