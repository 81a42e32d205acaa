// `scitune chat` over a pipe: each reply equals greedy decoding of the token sequence the conversation should
// be (the reply tokens the model produced, then the template's next user turn), /reset forgets, a full
// context starts over, /exit stops reading.
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

class CliChat : public testing::RealVocabModel {
 protected:
  std::string text(const std::vector<int32_t>& ids) { return session().tok.decode(ids, /*skip_special_tokens=*/true); }
  std::vector<int32_t> greedy(const std::vector<int32_t>& prompt) {
    GreedyOptions o;
    o.max_new_tokens = 6;
    o.stop_ids = session().stop_ids();
    return generate_greedy(session().net, prompt, o);
  }
  std::vector<int32_t> conversation(std::vector<std::pair<const char*, std::string>> turns) {
    std::vector<ChatMessage> msgs;
    for (auto& [role, content] : turns) {
      msgs.emplace_back();
      msgs.back().role = role;
      msgs.back().content = content;
    }
    ChatOptions o;
    o.add_generation_prompt = true;
    return encode_chat(session().tok, ChatFormat::kGemma3, msgs, o).ids;
  }
  // What the template puts between a reply and the model's next answer.
  std::vector<int32_t> next_turn(const std::string& user) {
    return session().tok.encode("<end_of_turn>\n<start_of_turn>user\n" + user +
                                "<end_of_turn>\n<start_of_turn>model\n");
  }
  static std::string input(const std::string& name, const std::string& lines) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << lines;
    return path;
  }
  static std::vector<int32_t> cat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
};

TEST_F(CliChat, TwoTurnsReuseTheCacheAndResetForgets) {
  const auto p1 = conversation({{"user", "Hello there"}});
  const auto r1 = greedy(p1);
  const auto r2 = greedy(cat(cat(p1, r1), next_turn("How are you?")));
  auto r = run_cli("--quiet chat --model " + model() + " --greedy --max-new-tokens 6 < " +
                   input("chat1.txt", "Hello there\n/reset\nHello there\n\nHow are you?\n"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, text(r1) + "\n" + text(r1) + "\n" + text(r2) + "\n");
}

TEST_F(CliChat, SystemPromptAFullContextStartsOverAndExitStops) {
  const std::string system = "Answer briefly.";
  const auto p1 = conversation({{"system", system}, {"user", "Hi"}});
  const auto r1 = greedy(p1);
  const size_t ctx = p1.size() + r1.size() + next_turn("How are you?").size() - 1;  // turn 2 does not fit
  const auto p2 = conversation({{"system", system}, {"user", "How are you?"}});
  ASSERT_LT(p2.size() + 6, ctx);
  const auto r2 = greedy(p2);
  auto r = run_cli("chat --model " + model() + " --greedy --max-new-tokens 6 --ctx " + std::to_string(ctx) +
                   " --system " + "'" + system + "' < " + input("chat2.txt", "Hi\nHow are you?\n/exit\nNot read\n"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.rfind(text(r1) + "\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("[context full"), std::string::npos) << r.out;
  ASSERT_GE(r.out.size(), text(r2).size() + 1);
  EXPECT_EQ(r.out.substr(r.out.size() - text(r2).size() - 1), text(r2) + "\n") << r.out;
}

}  // namespace
}  // namespace scitune
