// Crash safety of `scitune train`: a run with a checkpoint every step is SIGKILLed at many moments (while loading,
// mid-step, right after a log line, while a checkpoint is being written, right after one is renamed into place)
// and continued with --resume each time (--force while it has no checkpoint yet). Every resumed run must load the
// newest complete checkpoint, and the final train_log.jsonl and adapter must equal an uninterrupted run's bit for
// bit (no step lost or logged twice).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "cli_run.h"
#include "train_fixture.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A scitune process with stdout on a pseudo-terminal, so that its lines (line-buffered there) reach us even when
// it is killed; stderr goes to a file.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& stderr_path) {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) throw std::runtime_error("no pty");
    const std::string slave = ::ptsname(master_);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(SCITUNE_BIN));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      const int s = ::open(slave.c_str(), O_RDWR);
      const int e = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (s < 0 || e < 0) ::_exit(127);
      ::dup2(s, STDOUT_FILENO);
      ::dup2(e, STDERR_FILENO);
      ::close(master_);
      ::execv(SCITUNE_BIN, argv.data());
      ::_exit(127);
    }
    ::fcntl(master_, F_SETFL, O_NONBLOCK);
    start_ = Clock::now();
  }
  ~Child() {
    if (!exited_) kill();
    ::close(master_);
  }
  // Reads what is there; returns false once the process has exited (its status in status()).
  bool poll() {
    drain();
    if (exited_) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = st;
      drain();
      return false;
    }
    return true;
  }
  void kill() {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    exited_ = true;
    status_ = st;
    drain();
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  const std::string& out() const { return out_; }
  int status() const { return status_; }

 private:
  void drain() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, static_cast<size_t>(n));
    }
  }
  pid_t pid_ = -1;
  int master_ = -1, status_ = 0;
  bool exited_ = false;
  std::string out_;
  Clock::time_point start_;
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> v;
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

std::vector<nlohmann::json> read_log(const fs::path& p) {
  std::vector<nlohmann::json> v;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    try {
      v.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {  // a line being written
    }
  }
  return v;
}

// Steps logged so far (the highest "step"), 0 when none.
int64_t logged_steps(const fs::path& log) {
  int64_t s = 0;
  for (const auto& j : read_log(log)) s = std::max<int64_t>(s, j.value("step", int64_t{0}));
  return s;
}

// The newest complete checkpoint (renamed into place, so it has its trainer_state.json), 0 when none.
int64_t latest_checkpoint(const fs::path& dir) {
  int64_t best = 0;
  if (!fs::is_directory(dir)) return best;
  for (const auto& d : fs::directory_iterator(dir)) {
    const std::string name = d.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0 && fs::exists(d.path() / "trainer_state.json"))
      best = std::max<int64_t>(best, std::stoll(name.substr(11)));
  }
  return best;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class CliTrainKill : public testing::TrainCliTest {
 protected:
  CliTrainKill() : TrainCliTest("scitune_train_kill_") {}
};

constexpr int kSteps = 16;

TEST_F(CliTrainKill, KilledAnywhereAndResumedEqualsTheUninterruptedRun) {
  if (const int fd = ::posix_openpt(O_RDWR | O_NOCTTY); fd < 0)
    GTEST_SKIP() << "no pseudo-terminals here (posix_openpt failed)";
  else
    ::close(fd);
  const fs::path data = tmp("data.jsonl"), full = tmp("full"), part = tmp("part"), err = tmp("stderr.txt");
  testing::write_science_qa_jsonl(data);
  // 6 examples, micro-batch 1, accumulation 2: 3 steps per epoch, reshuffled every epoch, so resuming mid-epoch
  // has to restore both the position and the epoch's order; LoRA dropout makes the step's salt matter too.
  const auto args = [&](const fs::path& out) {
    return "train --model " + model() + " --data " + data.string() + " --output-dir " + out.string() +
           " --per-device-train-batch-size 1 --gradient-accumulation-steps 2 --learning-rate 1e-2"
           " --lr-scheduler-type cosine --warmup-steps 2 --r 4 --lora-alpha 8 --lora-dropout 0.1 --max-steps " +
           std::to_string(kSteps) + " --save-steps 1 -q";
  };
  // One compute thread per run, leaving a core to the poller.
  ::setenv("SCITUNE_THREADS", "1", 1);
  ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
  const auto t0 = Clock::now();
  {
    const auto r = testing::run_cli(args(full));
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  const double full_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const std::vector<nlohmann::json> want = read_log(full / "train_log.jsonl");
  ASSERT_EQ(want.size(), static_cast<size_t>(kSteps));

  const fs::path log = part / "train_log.jsonl";
  const auto tmp_dir = [&](int64_t k) { return part / (".checkpoint-" + std::to_string(k) + ".tmp"); };
  const auto ckpt_dir = [&](int64_t k) { return part / ("checkpoint-" + std::to_string(k)); };
  // True while checkpoint-k is being written; also true once it is complete, should the poll have missed the
  // temporary folder (the kill then lands after it, which is counted apart).
  const auto written = [&](int64_t k) { return fs::exists(tmp_dir(k)) || fs::exists(ckpt_dir(k)); };
  struct Moment {
    std::string what;
    std::function<bool(const Child&)> now;  // polled; true = kill now
  };
  const std::vector<Moment> moments = {
      {"while loading (no output yet)", [](const Child& c) { return c.seconds() > 0.01; }},
      {"after step 1 is logged, before its checkpoint", [&](const Child&) { return logged_steps(log) >= 1; }},
      {"while checkpoint-2 is written", [&](const Child&) { return written(2); }},
      {"right after checkpoint-3 is in place", [&](const Child&) { return fs::exists(ckpt_dir(3)); }},
      {"while loading, after a resume", [](const Child& c) { return c.seconds() > 0.05; }},
      {"while checkpoint-5 is written", [&](const Child&) { return written(5); }},
      {"after step 6 is logged, before its checkpoint", [&](const Child&) { return logged_steps(log) >= 6; }},
      {"between the log lines of steps 7 and 8 (in step 8)",
       [&](const Child& c) {  // half a step after step 7's line, a step timed from steps 6 -> 7 of this run
         static std::optional<Clock::time_point> t6, t7;
         if (c.out().find("resumed from") == std::string::npos) return false;  // the log may hold older lines
         const int64_t s = logged_steps(log);
         if (!t6 && s >= 6) t6 = Clock::now();
         if (!t7 && s >= 7) t7 = Clock::now();
         return t7 && Clock::now() - *t7 > (*t7 - *t6) / 2;
       }},
      {"while checkpoint-9 is written", [&](const Child&) { return written(9); }},
      {"right after checkpoint-10 is in place", [&](const Child&) { return fs::exists(ckpt_dir(10)); }},
      {"while checkpoint-12 is written", [&](const Child&) { return written(12); }},
      {"after step 14 is logged, before its checkpoint", [&](const Child&) { return logged_steps(log) >= 14; }},
      {"while checkpoint-15 is written", [&](const Child&) { return written(15); }},
      {"right after the last checkpoint, 16, is in place (before adapter/ is written)",
       [&](const Child&) { return fs::exists(ckpt_dir(kSteps)); }},
  };

  int kills = 0, mid_checkpoint_kills = 0, resumes_checked = 0;
  size_t next = 0;
  for (int run = 0; run < 40; ++run) {
    const int64_t ckpt = latest_checkpoint(part);
    const std::vector<nlohmann::json> log_before = read_log(log);
    std::vector<std::string> argv = split(args(part));
    argv.push_back(ckpt > 0 ? "--resume" : "--force");
    Child child(argv, err);
    bool killed = false;
    std::string what;
    while (child.poll()) {
      if (child.seconds() > 120) {
        child.kill();
        FAIL() << "run " << run << " hangs:\n" << child.out() << read_file(err);
      }
      if (next < moments.size() && moments[next].now(child)) {
        child.kill();
        killed = true;
        what = moments[next].what;
        if (what.find("is written") != std::string::npos) {
          const int64_t k = std::stoll(what.substr(what.find_first_of("0123456789")));
          if (!fs::exists(ckpt_dir(k)) && fs::exists(tmp_dir(k))) ++mid_checkpoint_kills;
        }
        ++next;
        ++kills;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    if (!killed) {
      ASSERT_TRUE(WIFEXITED(child.status()) && WEXITSTATUS(child.status()) == 0) << "run " << run << " failed:\n"
                                                                                 << child.out() << read_file(err);
    } else {
      ASSERT_TRUE(WIFSIGNALED(child.status())) << what << ": the run ended before it could be killed";
    }
    // The resumed run must have picked the newest complete checkpoint, if it got as far as saying so (it always
    // does before its first step).
    if (ckpt > 0) {
      const std::regex re("resumed from (\\S+) at step (\\d+)");
      std::smatch m;
      if (std::regex_search(child.out(), m, re)) {
        EXPECT_EQ(fs::path(m[1].str()).filename(), ckpt_dir(ckpt).filename()) << "run " << run;
        EXPECT_EQ(std::stoll(m[2].str()), ckpt) << "run " << run;
        ++resumes_checked;
      } else {  // killed before it said so: then it must not have logged anything new either
        EXPECT_TRUE(killed) << "run " << run << ":\n" << child.out();
        for (const auto& j : read_log(log))
          EXPECT_NE(std::find(log_before.begin(), log_before.end(), j), log_before.end())
              << "run " << run << " logged " << j.dump() << " without saying where it resumed from";
      }
    }
    std::printf("run %2d: from checkpoint %2lld, %s after %.2f s; log at step %lld, newest checkpoint %lld\n", run,
                static_cast<long long>(ckpt), killed ? ("killed " + what).c_str() : "finished", child.seconds(),
                static_cast<long long>(logged_steps(log)), static_cast<long long>(latest_checkpoint(part)));
    if (!killed) break;
  }
  EXPECT_EQ(next, moments.size()) << "the run finished before every kill moment was reached";
  EXPECT_GE(kills, 10);
  EXPECT_GE(mid_checkpoint_kills, 1) << "no kill landed while a checkpoint was being written";
  EXPECT_GE(resumes_checked, 8);

  const std::vector<nlohmann::json> got = read_log(log);
  ASSERT_EQ(got.size(), want.size()) << read_file(log);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i]["step"], want[i]["step"]) << "line " << i + 1;
    for (const char* k : {"loss", "grad_norm", "learning_rate", "epoch"})
      EXPECT_EQ(got[i][k].get<double>(), want[i][k].get<double>()) << "step " << i + 1 << " " << k;
  }
  EXPECT_EQ(read_file(part / "adapter/adapter_model.safetensors"),
            read_file(full / "adapter/adapter_model.safetensors"));
  for (const auto& d : fs::directory_iterator(part))  // every step was saved again, replacing any half-written one
    EXPECT_NE(d.path().filename().string().rfind(".checkpoint-", 0), 0u) << d.path() << " was left behind";
  std::printf("%d kills (%d while a checkpoint was being written), %d resumes checked; uninterrupted run %.2f s\n",
              kills, mid_checkpoint_kills, resumes_checked, full_seconds);
}

}  // namespace
}  // namespace scitune
