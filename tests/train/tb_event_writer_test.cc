// TensorBoard event files: CRC-32C and TFRecord masking against their standard values, our records read back
// (both CRCs checked, parsed with the generated protobuf classes), damage detected, and the golden file that
// TensorBoard's own EventFileWriter wrote (tools/oracle/make_tb_golden.py) parsed and matched byte for byte.
#include "train/tb_event_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "test_util.h"
#include "train/tb_event.pb.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::read_text;
const fs::path kGolden = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/tensorboard";

class TbEventWriterTest : public testing::TempDirTest {};

// A clock that ticks one second per call from t0 (the golden file's wall times).
TbEventWriter::Clock ticking(double t0) {
  return [t = t0]() mutable { return t++; };
}

// What make_tb_golden.py feeds TensorBoard's writer, through ours.
void write_golden_events(TbEventWriter& w) {
  w.add_log(nlohmann::ordered_json{{"step", 1},
                                   {"epoch", 0.25},
                                   {"loss", 2.5},
                                   {"learning_rate", 0.0},
                                   {"grad_norm", 1.5},
                                   {"tokens_per_second", 1234.5},
                                   {"peak_memory_mb", 512.0}});
  w.add_log(nlohmann::ordered_json{{"step", 2}, {"eval_loss", 2.25}, {"eval_perplexity", 9.487735836358526}});
  w.add_scalar("custom/negative", -3.5, 3000000000);
}

TEST(Crc32c, StandardCheckValueAndMask) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  // 32 bytes of zeros and of 0xff: the iSCSI test vectors of RFC 3720 B.4.
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  const uint32_t c = 0xE3069283u;
  EXPECT_EQ(masked_crc32c("123456789"), ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST(TfRecord, FramingAndDamage) {
  const std::string rec = tf_record("hello");
  ASSERT_EQ(rec.size(), 8u + 4 + 5 + 4);
  EXPECT_EQ(rec.substr(0, 8), std::string("\x05\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(rec.substr(12, 5), "hello");
  const std::string two = rec + tf_record("");
  TfRecords r = read_tf_records(two, "x");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], "hello");
  EXPECT_EQ(r.records[1], "");
  EXPECT_FALSE(r.truncated);
  // A cut tail (a writer killed mid-record) drops that record only.
  for (size_t cut = 1; cut < 16; ++cut) {
    r = read_tf_records(std::string_view(two).substr(0, two.size() - cut), "x");
    EXPECT_EQ(r.records.size(), 1u) << cut;
    EXPECT_TRUE(r.truncated) << cut;
  }
  // Any flipped byte is caught by one of the two CRCs.
  for (size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] ^= 0x20;
    const std::string err = error_of([&] { read_tf_records(bad, "bad.tfevents"); });
    EXPECT_NE(err.find("bad.tfevents: TFRecord at byte 0: "), std::string::npos) << i << ": " << err;
    EXPECT_NE(err.find("CRC mismatch"), std::string::npos) << i << ": " << err;
  }
}

TEST_F(TbEventWriterTest, WritesScalarsThatReadBack) {
  fs::path path;
  {
    TbEventWriter w(dir_ / "runs", 1, ticking(1700000000.0));
    path = w.path();
    write_golden_events(w);
    // Flushed after every event: the file is complete before the writer closes.
    const auto events = read_tb_events(path);
    EXPECT_EQ(events.size(), 11u);
  }
  // events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n>, like tensorboard's EventFileWriter.
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  const std::string name = path.filename().string();
  EXPECT_EQ(name.rfind("events.out.tfevents.1700000000." + std::string(host) + "." + std::to_string(getpid()) + ".", 0),
            0u)
      << name;
  EXPECT_EQ(path.parent_path(), dir_ / "runs");
  EXPECT_EQ(tb_event_files(dir_ / "runs"), std::vector<fs::path>{path});

  const auto events = read_tb_events(path);
  ASSERT_EQ(events.size(), 11u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[0].wall_time, 1700000000.0);
  EXPECT_TRUE(events[1].session_start);
  EXPECT_EQ(events[1].step, 1);
  const std::vector<std::string> tags = {
      "train/epoch",         "train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_per_second",
      "train/peak_memory_mb"};
  const std::vector<float> values = {0.25f, 2.5f, 0.0f, 1.5f, 1234.5f, 512.0f};
  for (size_t i = 0; i < tags.size(); ++i) {
    const TbEvent& e = events[2 + i];
    EXPECT_EQ(e.step, 1);
    EXPECT_EQ(e.wall_time, 1700000001.0);
    ASSERT_EQ(e.scalars.size(), 1u);
    EXPECT_EQ(e.scalars[0].tag, tags[i]);
    EXPECT_EQ(e.scalars[0].value, values[i]);  // 0.0 too: simple_value sits in a oneof, so it is written
  }
  EXPECT_EQ(events[8].scalars[0].tag, "eval/loss");
  EXPECT_EQ(events[9].scalars[0].tag, "eval/perplexity");
  EXPECT_EQ(events[9].scalars[0].value, static_cast<float>(9.487735836358526));
  EXPECT_EQ(events[9].step, 2);
  EXPECT_EQ(events[10].step, 3000000000);
  EXPECT_EQ(events[10].scalars[0].value, -3.5f);

  // The same records parsed by the generated classes directly.
  const std::string bytes = read_text(path);
  const TfRecords recs = read_tf_records(bytes, path.string());
  tbproto::Event pb;
  ASSERT_TRUE(pb.ParseFromString(recs.records[3]));
  EXPECT_EQ(pb.summary().value(0).tag(), "train/loss");
  EXPECT_EQ(pb.summary().value(0).simple_value(), 2.5f);

  // A damaged byte anywhere in the file is named, never read as data.
  for (size_t i : {size_t{3}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    const std::string err = error_of([&] { parse_tb_events(bad, "e.tfevents"); });
    EXPECT_NE(err.find("e.tfevents: TFRecord at byte "), std::string::npos) << i << ": " << err;
  }
}

TEST_F(TbEventWriterTest, EachWriterGetsItsOwnFile) {
  TbEventWriter a(dir_, 1, ticking(1700000000.0));
  TbEventWriter b(dir_, 5, ticking(1700000000.0));  // same second, same process: the counter tells them apart
  EXPECT_NE(a.path(), b.path());
  const auto files = tb_event_files(dir_);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], a.path());  // sorted by name = by counter within one second
  EXPECT_EQ(read_tb_events(b.path())[1].step, 5);
}

TEST_F(TbEventWriterTest, MatchesTensorBoardsOwnWriter) {
  const nlohmann::json expected = nlohmann::json::parse(read_text(kGolden / "expected.json"));
  // TensorBoard's file name has the shape ours has.
  EXPECT_TRUE(std::regex_match(expected["writer_file_name"].get<std::string>(),
                               std::regex(R"(events\.out\.tfevents\.\d{10}\.HOST\.PID\.\d+)")))
      << expected["writer_file_name"];

  // Our reader on TensorBoard's file.
  const std::string golden = read_text(kGolden / "events.golden.tfevents");
  ASSERT_FALSE(golden.empty());
  const auto events = parse_tb_events(golden, "events.golden.tfevents");
  const auto& want = expected["events"];
  ASSERT_EQ(events.size(), want.size());
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.5e9);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].wall_time, want[i]["wall_time"].get<double>()) << i;
    EXPECT_EQ(events[i].step, want[i]["step"].get<int64_t>()) << i;
    EXPECT_EQ(events[i].session_start, want[i]["session_start"].get<bool>()) << i;
    ASSERT_EQ(events[i].scalars.size(), want[i]["scalars"].size()) << i;
    for (size_t j = 0; j < events[i].scalars.size(); ++j) {
      EXPECT_EQ(events[i].scalars[j].tag, want[i]["scalars"][j][0].get<std::string>()) << i;
      EXPECT_EQ(events[i].scalars[j].value, want[i]["scalars"][j][1].get<float>()) << i;
    }
  }

  // Our writer, fed the same calls: every record after the first (whose wall time is the real clock's in the
  // golden file) is byte-identical to TensorBoard's.
  fs::path path;
  {
    TbEventWriter w(dir_, 1, ticking(1700000000.0));
    path = w.path();
    write_golden_events(w);
  }
  const std::string ours = read_text(path);
  const TfRecords a = read_tf_records(ours, "ours"), b = read_tf_records(golden, "golden");
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 1; i < a.records.size(); ++i) EXPECT_EQ(a.records[i], b.records[i]) << "record " << i;
  const size_t first = 16 + a.records[0].size(), first_golden = 16 + b.records[0].size();
  EXPECT_EQ(ours.substr(first), golden.substr(first_golden)) << "framing after the first record";
}

}  // namespace
}  // namespace scitune
