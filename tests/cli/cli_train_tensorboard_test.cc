// `scitune train`'s TensorBoard events (OUTPUT_DIR/runs/): one scalar event per train_log.jsonl number with HF
// Trainer's tags, a fresh file per run, and on --resume the view TensorBoard builds (files in name order, a later
// SessionLog.START dropping older points at >= its step) equal to that of the uninterrupted run.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "train/tb_event.pb.h"
#include "train/tb_event_writer.h"
#include "train_fixture.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

// tag -> step -> value, as TensorBoard shows a run folder: event files in name order; the first SessionLog.START
// starts the run, each later one drops every point at or past its step (plugin_event_accumulator's purge; the
// Rust data server replaces re-logged steps the same way).
using TbView = std::map<std::string, std::map<int64_t, float>>;
TbView tensorboard_view(const fs::path& dir) {
  TbView view;
  bool started = false;
  for (const fs::path& f : tb_event_files(dir))
    for (const TbEvent& e : read_tb_events(f)) {
      if (e.session_start) {
        if (started)
          for (auto& [tag, points] : view) points.erase(points.lower_bound(e.step), points.end());
        started = true;
      }
      for (const TbScalar& s : e.scalars) view[s.tag][e.step] = s.value;
    }
  return view;
}

class CliTrainTensorBoard : public testing::TrainCliTest {
 protected:
  CliTrainTensorBoard() : TrainCliTest("scitune_train_tb_") {}
  std::string common(const fs::path& out) {
    const fs::path d = tmp("data.jsonl");
    if (!fs::exists(d)) testing::write_science_qa_jsonl(d);
    return "train --model " + model() + " --data " + d.string() + " --output-dir " + out.string() +
           " --per-device-train-batch-size 2 --learning-rate 1e-2 --lr-scheduler-type cosine --warmup-steps 1"
           " --r 4 --lora-alpha 8 --logging-steps 1 -q";
  }
};

TEST_F(CliTrainTensorBoard, OneScalarEventPerLoggedNumberWithHfTags) {
  const fs::path out = tmp("run");
  auto r = run_cli(common(out) + " --max-steps 3 --validation-split 0.34 --eval-steps 2");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("tensorboard --logdir " + out.string()), std::string::npos) << r.out;
  const auto files = tb_event_files(out / "runs");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind("events.out.tfevents.", 0), 0u) << files[0];
  const auto events = read_tb_events(files[0]);
  // file_version, START at step 1, 3 steps x 6 train scalars, evaluations at steps 2 and 3 x 2.
  ASSERT_EQ(events.size(), 2u + 3 * 6 + 2 * 2);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_TRUE(events[1].session_start);
  EXPECT_EQ(events[1].step, 1);
  size_t scalars = 0;
  for (const TbEvent& e : events) scalars += e.scalars.size();
  EXPECT_EQ(scalars, 3u * 6 + 2 * 2);

  // Every number of train_log.jsonl, under HF's tag, at its step.
  const TbView view = tensorboard_view(out / "runs");
  const auto lines = testing::read_jsonl_lines(out / "train_log.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  size_t checked = 0;
  for (const auto& line : lines)
    for (const auto& [key, value] : line.items()) {
      if (key == "step") continue;
      const std::string tag = key.rfind("eval_", 0) == 0 ? "eval/" + key.substr(5) : "train/" + key;
      ASSERT_TRUE(view.count(tag)) << tag;
      const int64_t step = line["step"].get<int64_t>();
      ASSERT_TRUE(view.at(tag).count(step)) << tag << " " << step;
      EXPECT_EQ(view.at(tag).at(step), value.get<float>()) << tag << " " << step;
      ++checked;
    }
  EXPECT_EQ(checked, scalars);
  for (const char* tag : {"train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_per_second",
                          "train/peak_memory_mb", "train/epoch", "eval/loss", "eval/perplexity"})
    EXPECT_TRUE(view.count(tag)) << tag;

  // --force starts over: the previous run's events go with its log.
  r = run_cli(common(out) + " --max-steps 2 --force");
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto again = tb_event_files(out / "runs");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(tensorboard_view(out / "runs").at("train/loss").size(), 2u);
}

TEST_F(CliTrainTensorBoard, ResumeShowsWhatTheUninterruptedRunShows) {
  const fs::path full = tmp("full"), part = tmp("part");
  ASSERT_EQ(run_cli(common(full) + " --max-steps 5 --save-steps 2").rc, 0);
  // A run killed after logging step 7 whose newest checkpoint is step 2: its events file holds the full run's
  // steps 1-5 and two more (named a second earlier than anything the resumed run can write, as a real earlier
  // run's would be). Only the purge hides steps 6 and 7.
  fs::create_directories(part / "runs");
  fs::copy(full / "checkpoint-2", part / "checkpoint-2", fs::copy_options::recursive);
  fs::copy(full / "train_log.jsonl", part / "train_log.jsonl");
  const auto files = tb_event_files(full / "runs");
  ASSERT_EQ(files.size(), 1u);
  const fs::path killed = part / "runs" / "events.out.tfevents.0000000001.killed.1.0";
  fs::copy(files[0], killed);
  {
    std::ofstream f(killed, std::ios::binary | std::ios::app);
    for (int64_t step : {6, 7}) {
      tbproto::Event e;
      e.set_wall_time(1.0);
      e.set_step(step);
      auto* v = e.mutable_summary()->add_value();
      v->set_tag("train/loss");
      v->set_simple_value(99.0f);
      f << tf_record(e.SerializeAsString());
    }
  }
  ASSERT_EQ(tensorboard_view(part / "runs").at("train/loss").size(), 7u);
  auto r = run_cli(common(part) + " --max-steps 5 --save-steps 2 --resume");
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_EQ(tb_event_files(part / "runs").size(), 2u);
  const auto resumed = read_tb_events(tb_event_files(part / "runs")[1]);
  ASSERT_GE(resumed.size(), 2u);
  EXPECT_TRUE(resumed[1].session_start);
  EXPECT_EQ(resumed[1].step, 3);

  const TbView a = tensorboard_view(full / "runs"), b = tensorboard_view(part / "runs");
  for (const char* tag : {"train/loss", "train/grad_norm", "train/learning_rate", "train/epoch"}) {
    ASSERT_TRUE(a.count(tag) && b.count(tag)) << tag;
    EXPECT_EQ(a.at(tag), b.at(tag)) << tag;  // resuming is bit-exact (cli_train_test), so are the points
  }
  EXPECT_EQ(b.at("train/loss").size(), 5u);
}

}  // namespace
}  // namespace scitune
