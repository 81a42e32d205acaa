// The whole pipeline with the real Gemma 3 tokenizer: masks (the Unsloth response-only rule), TRL's text
// rules, one <bos>, truncation, rejects with exact file:line messages, sampling, shuffling, splits, and the
// prepared folder written and read back.
#include "data/prepare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "data/example_cache.h"
#include "data_test_util.h"
#include "tokenizer/tokenizer_test_util.h"

namespace scitune {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::write_file;

std::string chat_line(const std::string& q, const std::string& a) {
  return nlohmann::json({{"messages", {{{"role", "user"}, {"content", q}}, {{"role", "assistant"}, {"content", a}}}}})
             .dump() +
         "\n";
}

std::vector<int32_t> trained_ids(const TokenizedExample& ex) {
  std::vector<int32_t> out;
  for (size_t i = 0; i < ex.labels.size(); ++i)
    if (ex.labels[i] != kIgnoreLabel) {
      EXPECT_EQ(ex.labels[i], ex.input_ids[i]);
      out.push_back(ex.input_ids[i]);
    }
  return out;
}

class PrepareTest : public testing::TempDirTest {
 protected:
  std::string file(const char* name, const std::string& text) { return write_file(dir_ / name, text).string(); }
  DatasetSpec spec_of(std::vector<std::string> files) {
    DatasetSpec s;
    for (const auto& f : files) s.sources.push_back(parse_data_source(f));
    s.tokenize.threads = 2;
    return s;
  }
};

TEST_F(PrepareTest, ChatMaskIsTheResponseOnlyRule) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = file(
      "chat.jsonl",
      R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is DNA?"}, {"role": "assistant", "content": "A molecule."}, {"role": "user", "content": "Where?"}, {"role": "assistant", "content": " In cells. "}]})"
      "\n");
  const PreparedDataset d = prepare_dataset(spec_of({f}), *tok);
  ASSERT_EQ(d.train.size(), 1u);
  const TokenizedExample& ex = d.train[0];
  EXPECT_EQ(ex.source, f + ":1");
  EXPECT_EQ(tok->decode(ex.input_ids),
            "<bos><start_of_turn>user\nBe brief.\n\nWhat is DNA?<end_of_turn>\n<start_of_turn>model\nA "
            "molecule.<end_of_turn>\n<start_of_turn>user\nWhere?<end_of_turn>\n<start_of_turn>model\nIn "
            "cells.<end_of_turn>\n");
  // Both answers with their <end_of_turn> and "\n" are trained, nothing else.
  EXPECT_EQ(tok->decode(trained_ids(ex)), "A molecule.<end_of_turn>\nIn cells.<end_of_turn>\n");
  EXPECT_EQ(ex.input_ids[0], *tok->bos_id());
  EXPECT_EQ(ex.labels[0], kIgnoreLabel);
  EXPECT_EQ(ex.labels.back(), ex.input_ids.back());  // the final "\n" after <end_of_turn>
  // Identical to encode_chat on the same conversation (assistant spelled as the template expects).
  std::vector<ChatMessage> msgs(5);
  const char* roles[] = {"system", "user", "assistant", "user", "assistant"};
  const char* texts[] = {"Be brief.", "What is DNA?", "A molecule.", "Where?", " In cells. "};
  for (int i = 0; i < 5; ++i) msgs[i] = {roles[i], texts[i], {}, false};
  const ChatEncoding enc = encode_chat(*tok, ChatFormat::kGemma3, msgs, {});
  EXPECT_EQ(ex.input_ids, enc.ids);
  for (size_t i = 0; i < enc.mask.size(); ++i) EXPECT_EQ(ex.labels[i], enc.mask[i] ? enc.ids[i] : kIgnoreLabel) << i;
  EXPECT_EQ(d.report.sources[0].layout, "messages");
  EXPECT_EQ(d.report.sources[0].trained_tokens, ex.trained_tokens());
  EXPECT_EQ(d.report.chat_format, "gemma3");
}

TEST_F(PrepareTest, EveryChatLayoutGivesTheSameExample) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string m = file("m.jsonl", chat_line("Q?", "A."));
  const std::string s =
      file("s.json", R"([{"conversations": [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A."}]}])");
  const std::string a = file("a.jsonl", R"({"instruction": "Q?", "input": "", "output": "A."})"
                                        "\n");
  const std::string r = file("r.jsonl", R"({"input": "Q?", "output": "A.", "_instance_id": "t:train:1"})"
                                        "\n");
  const std::string p = file("p.jsonl", R"({"prompt": "Q?", "completion": "A."})"
                                        "\n");
  std::vector<int32_t> first;
  for (const std::string& f : {m, s, a, r, p}) {
    const PreparedDataset d = prepare_dataset(spec_of({f}), *tok);
    ASSERT_EQ(d.train.size(), 1u) << f;
    if (first.empty()) first = d.train[0].input_ids;
    EXPECT_EQ(d.train[0].input_ids, first) << f;
    EXPECT_EQ(tok->decode(trained_ids(d.train[0])), "A.<end_of_turn>\n") << f;
  }
}

TEST_F(PrepareTest, TextIsFullyTrainedWithOneBosAndAnEos) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = file("t.jsonl", R"({"text": "Proteins fold."})"
                                        "\n"
                                        R"({"text": "<bos>Already has bos.<end_of_turn>"})"
                                        "\n"
                                        R"({"text": "Two <bos> here."})"
                                        "\n");
  DatasetSpec spec = spec_of({f});
  const PreparedDataset d = prepare_dataset(spec, *tok);
  ASSERT_EQ(d.train.size(), 2u);
  std::set<std::string> texts;
  for (const TokenizedExample& ex : d.train) {
    EXPECT_EQ(ex.labels, std::vector<int64_t>(ex.input_ids.begin(), ex.input_ids.end()));
    EXPECT_EQ(ex.input_ids.front(), *tok->bos_id());
    EXPECT_EQ(ex.input_ids.back(), *tok->eos_id());
    texts.insert(tok->decode(ex.input_ids));
  }
  // TRL appends the tokenizer's eos_token: "<end_of_turn>" in the instruction-tuned Gemma 3 config.
  const std::string eos = tok->id_to_token(*tok->eos_id());
  EXPECT_EQ(eos, "<end_of_turn>");
  EXPECT_EQ(texts, (std::set<std::string>{"<bos>Proteins fold." + eos, "<bos>Already has bos." + eos}));
  const SourceReport& sr = d.report.sources[0];
  EXPECT_EQ(sr.layout, "text");
  EXPECT_EQ(sr.rejected_by_kind.at("bos"), 1);
  EXPECT_EQ(
      sr.first_rejects[0],
      f + R"(:3: 2 "<bos>" (2) tokens (the text contains a literal "<bos>"); exactly one, at the start, is expected)");
}

TEST_F(PrepareTest, PretokenisedRecords) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = file("ids.jsonl", R"({"input_ids": [2, 100, 200], "labels": [-100, -100, 200]})"
                                          "\n"
                                          R"({"input_ids": [2, 5]})"
                                          "\n"
                                          R"({"input_ids": [100, 5]})"
                                          "\n"
                                          R"({"input_ids": [2, 999999]})"
                                          "\n"
                                          R"({"input_ids": [2, 7], "labels": [-100, -100]})"
                                          "\n");
  DatasetSpec spec = spec_of({f});
  const PreparedDataset d = prepare_dataset(spec, *tok);
  ASSERT_EQ(d.train.size(), 2u);
  const auto& sr = d.report.sources[0];
  EXPECT_EQ(sr.records, 5);
  EXPECT_EQ(sr.kept, 2);
  EXPECT_EQ(sr.tokens, 5);
  EXPECT_EQ(sr.trained_tokens, 1 + 2);
  ASSERT_EQ(sr.first_rejects.size(), 3u);
  EXPECT_EQ(sr.first_rejects[0], f + R"(:3: the sequence starts with "<unused94>" (100), not "<bos>" (2))");
  EXPECT_EQ(sr.first_rejects[1], f + ":4: input_ids[1] = 999999 is not in the vocabulary (size 262145)");
  EXPECT_EQ(sr.first_rejects[2], f + ":5: no token is trained (every label is -100)");
}

TEST_F(PrepareTest, TruncationKeepsTheStartOrDrops) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  std::string long_answer;
  for (int i = 0; i < 100; ++i) long_answer += "word ";
  const std::string f = file("long.jsonl", chat_line("Q?", long_answer) + chat_line("Q?", "Short."));
  DatasetSpec spec = spec_of({f});
  spec.tokenize.max_seq_length = 24;
  PreparedDataset d = prepare_dataset(spec, *tok);
  ASSERT_EQ(d.train.size(), 2u);
  EXPECT_EQ(d.report.sources[0].truncated, 1);
  for (const TokenizedExample& ex : d.train) {
    EXPECT_LE(ex.input_ids.size(), 24u);
    if (ex.source == f + ":1") {
      EXPECT_EQ(ex.input_ids.size(), 24u);
      EXPECT_THAT(tok->decode(ex.input_ids), StartsWith("<bos><start_of_turn>user\nQ?<end_of_turn>\n"));
      EXPECT_EQ(ex.labels.back(), ex.input_ids.back());
    }
  }
  EXPECT_EQ(d.report.lengths.max, 24);

  spec.tokenize.overlong = Overlong::kDrop;
  d = prepare_dataset(spec, *tok);
  ASSERT_EQ(d.train.size(), 1u);
  EXPECT_EQ(d.report.sources[0].rejected_by_kind.at("too long"), 1);
  EXPECT_THAT(d.report.sources[0].first_rejects[0],
              ::testing::MatchesRegex(".*long\\.jsonl:1: [0-9]+ tokens, more than the maximum sequence length 24"));

  // Cut before the answer starts: nothing left to train, so the row goes (counted), never kept all -100.
  spec.tokenize.overlong = Overlong::kTruncate;
  spec.tokenize.max_seq_length = 6;
  const std::string g = file("prompt_heavy.jsonl", chat_line("A fairly long question about proteins?", "Yes."));
  spec.sources = {parse_data_source(g)};
  EXPECT_THAT(error_of([&] { prepare_dataset(spec, *tok); }),
              ::testing::MatchesRegex(".*prompt_heavy\\.jsonl:1: no trained token left after truncating [0-9]+ "
                                      "tokens to 6 \\(the answer starts after the cut\\)"));
}

TEST_F(PrepareTest, RejectsAreCountedAndNamed) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = file("mixed.jsonl",
                             "{\"question\": 1}\n" +        // 1: no layout yet
                                 chat_line("Q1?", "A1.") +  // 2: detects messages
                                 "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}, {\"role\": \"assistant\", "
                                 "\"content\": \"\"}]}\n" +  // 3: empty answer
                                 "{not json}\n" +            // 4
                                 R"({"instruction": "I", "output": "O"})"
                                 "\n" +  // 5: other layout
                                 "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}, {\"role\": \"critic\", "
                                 "\"content\": \"x\"}]}\n" +  // 6: unknown role
                                 "{\"text\": \"\xff\"}\n" +   // 7: invalid UTF-8
                                 chat_line("Q2?", "A2."));    // 8
  const PreparedDataset d = prepare_dataset(spec_of({f}), *tok);
  EXPECT_EQ(d.train.size(), 2u);
  const SourceReport& sr = d.report.sources[0];
  EXPECT_EQ(sr.records, 8);
  EXPECT_EQ(sr.valid, 2);
  EXPECT_EQ(sr.kept, 2);
  EXPECT_EQ(sr.rejected, 6);
  EXPECT_EQ(sr.rejected_by_kind, (std::map<std::string, int64_t>{{"empty answer", 1},
                                                                 {"invalid JSON", 1},
                                                                 {"invalid UTF-8", 1},
                                                                 {"missing field", 1},
                                                                 {"unknown layout", 1},
                                                                 {"unknown role", 1}}));
  ASSERT_EQ(sr.first_rejects.size(), kReportRejectSamples);
  EXPECT_EQ(sr.first_rejects[0],
            f + ":1: no known layout (keys: \"question\"; expected messages, conversations, instruction/output, "
                "prompt/completion, input/output, text or input_ids)");
  EXPECT_EQ(sr.first_rejects[1], f + ":3: messages[1]: empty model answer");
  EXPECT_THAT(sr.first_rejects[2], StartsWith(f + ":4: invalid JSON"));
  EXPECT_EQ(sr.first_rejects[3],
            f + ":5: missing \"messages\" (the file's layout is messages, detected at " + f + ":2)");
  EXPECT_EQ(sr.first_rejects[4], f + ":6: messages[1]: unknown role \"critic\" (expected system, user/human or "
                                     "assistant/model/gpt/bot)");
  const std::string summary = format_report(d.report);
  EXPECT_THAT(summary, HasSubstr("rejected 6: empty answer 1, invalid JSON 1, invalid UTF-8 1, missing field 1, "
                                 "unknown layout 1, unknown role 1"));
  EXPECT_THAT(summary, HasSubstr(f + ":3: messages[1]: empty model answer"));

  DatasetSpec strict = spec_of({f});
  strict.strict = true;
  EXPECT_EQ(error_of([&] { prepare_dataset(strict, *tok); }),
            sr.first_rejects[0] + " (--strict: a rejected record is an error)");
}

TEST_F(PrepareTest, NothingLeftIsAnError) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = file("bad.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}]}\n");
  EXPECT_EQ(error_of([&] { prepare_dataset(spec_of({f}), *tok); }),
            "no training examples left: 1 records read, 1 rejected; first: " + f +
                ":1: no assistant/model turn (nothing to train on)");
  const std::string e = file("empty.jsonl", "\n");
  EXPECT_THAT(error_of([&] { prepare_dataset(spec_of({e}), *tok); }),
              StartsWith("no training examples left: 0 records read"));
}

TEST_F(PrepareTest, ForcedLayout) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  // Records with both "messages" and "text": auto takes messages, --format text takes the text.
  const std::string f = file(
      "both.jsonl",
      R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "text": "Plain."})"
      "\n");
  DatasetSpec spec = spec_of({});
  spec.sources = {parse_data_source(f, Layout::kText)};
  const PreparedDataset d = prepare_dataset(spec, *tok);
  EXPECT_EQ(tok->decode(d.train[0].input_ids), "<bos>Plain.<end_of_turn>");
  EXPECT_EQ(d.report.sources[0].layout, "text");
}

class SplitTest : public PrepareTest {
 protected:
  void SetUp() override {
    PrepareTest::SetUp();
    std::string a, b;
    for (int i = 0; i < 40; ++i) a += chat_line("Question " + std::to_string(i) + "?", "Answer " + std::to_string(i));
    for (int i = 0; i < 10; ++i) b += R"({"text": "Document )" + std::to_string(i) + "\"}\n";
    a_ = file("a.jsonl", a);
    b_ = file("b.jsonl.gz", testing::gzip_bytes(b));
  }
  static std::vector<std::string> sources(const std::vector<TokenizedExample>& v) {
    std::vector<std::string> out;
    for (const auto& ex : v) out.push_back(ex.source);
    return out;
  }
  std::string a_, b_;
};

TEST_F(SplitTest, SizesByRatioAndCount) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  DatasetSpec spec = spec_of({a_, b_});
  spec.val_ratio = 0.25;
  PreparedDataset d = prepare_dataset(spec, *tok);
  EXPECT_EQ(d.validation.size(), 13u);  // ceil(0.25 * 50), as datasets' train_test_split
  EXPECT_EQ(d.train.size(), 37u);
  EXPECT_EQ(d.report.train.examples, 37);
  EXPECT_EQ(d.report.validation.examples, 13);
  EXPECT_EQ(d.report.sources[1].format, "jsonl+gzip");
  EXPECT_EQ(d.report.sources[1].layout, "text");
  std::set<std::string> all;
  for (const auto& s : sources(d.train)) all.insert(s);
  for (const auto& s : sources(d.validation)) all.insert(s);
  EXPECT_EQ(all.size(), 50u);  // a partition: nothing lost or doubled
  spec.val_count = 5;
  d = prepare_dataset(spec, *tok);
  EXPECT_EQ(d.validation.size(), 5u);
  EXPECT_EQ(d.train.size(), 45u);
  spec.val_count = 50;
  EXPECT_EQ(error_of([&] { prepare_dataset(spec, *tok); }),
            "a validation split of 50 examples leaves nothing to train on (50 examples in all)");
  spec.val_count = -1;
  spec.val_ratio = 1.0;
  EXPECT_THAT(error_of([&] { prepare_dataset(spec, *tok); }), HasSubstr("is not in [0, 1)"));
}

TEST_F(SplitTest, HoldoutIsAThirdPartitionAndLeavesTheOthersAlone) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  DatasetSpec spec = spec_of({a_, b_});
  spec.val_count = 5;
  const PreparedDataset before = prepare_dataset(spec, *tok);
  spec.holdout_ratio = 0.2;
  const PreparedDataset d = prepare_dataset(spec, *tok);
  EXPECT_EQ(d.validation.size(), 5u);
  EXPECT_EQ(d.holdout.size(), 10u);  // ceil(0.2 * 50)
  EXPECT_EQ(d.train.size(), 35u);
  EXPECT_EQ(d.report.holdout.examples, 10);
  EXPECT_EQ(sources(d.validation), sources(before.validation));  // the same seed draws the same validation split
  std::set<std::string> all;
  for (const auto* split : {&d.train, &d.validation, &d.holdout})
    for (const auto& s : sources(*split)) EXPECT_TRUE(all.insert(s).second) << s;
  EXPECT_EQ(all.size(), 50u);
  spec.holdout_count = 45;
  EXPECT_EQ(error_of([&] { prepare_dataset(spec, *tok); }),
            "validation (5) and holdout (45) splits leave nothing to train on (50 examples in all)");
}

TEST_F(SplitTest, ShuffleAndSampleAreDeterministic) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  DatasetSpec spec = spec_of({a_ + ":15", b_});
  spec.seed = 7;
  spec.val_count = 4;
  const PreparedDataset d1 = prepare_dataset(spec, *tok);
  const PreparedDataset d2 = prepare_dataset(spec, *tok);
  EXPECT_EQ(sources(d1.train), sources(d2.train));
  EXPECT_EQ(sources(d1.validation), sources(d2.validation));
  EXPECT_EQ(d1.train.size() + d1.validation.size(), 25u);
  EXPECT_EQ(d1.report.sources[0].kept, 15);
  EXPECT_EQ(d1.report.sources[0].requested, 15);
  EXPECT_EQ(d1.report.sources[0].examined, 15);
  EXPECT_EQ(d1.report.sources[0].valid, 40);
  // A random sample, not the first 15 lines; and a shuffle, not file order.
  int64_t beyond = 0;
  for (const auto& s : sources(d1.train))
    if (s.rfind(a_ + ":", 0) == 0 && std::stoi(s.substr(a_.size() + 1)) > 15) ++beyond;
  EXPECT_GT(beyond, 0);
  spec.seed = 8;
  const PreparedDataset d3 = prepare_dataset(spec, *tok);
  EXPECT_NE(sources(d1.train), sources(d3.train));
  // Asking for more than there is keeps all and warns.
  spec.sources = {parse_data_source(b_ + ":30")};
  spec.val_count = 0;
  const PreparedDataset d4 = prepare_dataset(spec, *tok);
  EXPECT_EQ(d4.train.size(), 10u);
  ASSERT_EQ(d4.report.warnings.size(), 1u);
  EXPECT_EQ(d4.report.warnings[0], b_ + ": 30 examples requested, only 10 available");
}

TEST(SeededShuffle, PortableAndUnbiasedDraws) {
  std::mt19937_64 rng(42);
  std::vector<int> v(10);
  for (int i = 0; i < 10; ++i) v[i] = i;
  seeded_shuffle(v, rng);
  std::mt19937_64 rng2(42);
  std::vector<int> w(10);
  for (int i = 0; i < 10; ++i) w[i] = i;
  seeded_shuffle(w, rng2);
  EXPECT_EQ(v, w);
  EXPECT_NE(v, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  std::mt19937_64 r(1);
  std::vector<int> counts(3);
  for (int i = 0; i < 30000; ++i) ++counts[uniform_below(r, 3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

TEST(DataSourceArg, FileAndCount) {
  EXPECT_EQ(parse_data_source("a.jsonl").sample, -1);
  const DataSourceSpec s = parse_data_source("dir/a.jsonl.gz:15000");
  EXPECT_EQ(s.path, "dir/a.jsonl.gz");
  EXPECT_EQ(s.sample, 15000);
  EXPECT_EQ(parse_data_source("C:x.jsonl").path, "C:x.jsonl");
  EXPECT_EQ(testing::error_of([] { parse_data_source("a.jsonl:0"); }),
            "--data a.jsonl:0: the sample count must be a positive integer");
}

TEST_F(SplitTest, PreparedFolderRoundTrip) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  DatasetSpec spec = spec_of({a_, b_});
  spec.val_ratio = 0.1;
  const PreparedDataset d = prepare_dataset(spec, *tok);
  const auto out = dir_ / "prepared";
  write_prepared_dataset(out, d, *tok);
  const ExampleCache train(out / "train.bin"), val(out / "validation.bin");
  ASSERT_EQ(train.size(), d.train.size());
  ASSERT_EQ(val.size(), d.validation.size());
  for (size_t i = 0; i < train.size(); ++i) {
    const TokenizedExample ex = train.example(i);
    EXPECT_EQ(ex.input_ids, d.train[i].input_ids);
    EXPECT_EQ(ex.labels, d.train[i].labels);
    EXPECT_EQ(ex.source, d.train[i].source);
  }
  EXPECT_EQ(train.meta()["split"], "train");
  EXPECT_EQ(val.meta()["split"], "validation");
  EXPECT_EQ(train.vocab_size(), tok->vocab_size());
  EXPECT_EQ(to_json(read_data_report(out)), to_json(d.report));
  EXPECT_THAT(error_of([&] { write_prepared_dataset(out, d, *tok); }),
              HasSubstr("train.bin exists (pass --force to replace the prepared data)"));
  write_prepared_dataset(out, d, *tok, Overwrite::kYes);
}

}  // namespace
}  // namespace scitune
