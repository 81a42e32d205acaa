// `scitune demo` on the real model (skipped when it is not in the cache) and its error path.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Run {
  int rc;
  std::string out;
};

Run run(const std::string& args) {
  FILE* p = popen((std::string(SCITUNE_BIN) + " " + args + " 2>&1").c_str(), "r");
  Run r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CliDemo, AnswersAHeldOutQuestionWithTheRealModel) {
  const char* data = std::getenv("SCITUNE_DATA");
  fs::path base = data ? fs::path(data) : fs::path(std::getenv("HOME") ? std::getenv("HOME") : "/") / ".cache/scitune";
  if (!fs::exists(base / "models/gemma-3-270m-q4_k_m.gguf")) GTEST_SKIP() << "real model not in the cache";
  auto r = run("demo --questions 1 --max-new-tokens 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Q: What is the difference between mass and weight?"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(3 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not in this build yet"), std::string::npos) << r.out;
}

TEST(CliDemo, MissingModelSaysHowToGetIt) {
  auto r = run("demo --model /no/such/model.gguf");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("scripts/setup.sh"), std::string::npos) << r.out;
}

}  // namespace
