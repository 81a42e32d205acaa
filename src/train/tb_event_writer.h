// TensorBoard event files beside train_log.jsonl, so `tensorboard --logdir OUTPUT_DIR` shows a run's curves.
// The format is TensorFlow's: a TFRecord stream (uint64 length LE, uint32 masked CRC-32C of those 8 bytes, the
// data, uint32 masked CRC-32C of the data) of serialized tensorboard Event protos (train/tb_event.proto), the
// first holding file_version "brain.Event:2". Names and layout follow tensorboard/summary/writer/
// event_file_writer.py and record_writer.py; tags follow HF Trainer's TensorBoardCallback (rewrite_logs).
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace scitune {

// CRC-32C (Castagnoli) with the usual init and final xor: crc32c("123456789") == 0xE3069283. ISA-L's crc32_iscsi.
uint32_t crc32c(std::string_view data);
// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8, so that CRCs of CRCs stay useful.
uint32_t masked_crc32c(std::string_view data);
// One TFRecord: length, masked CRC of the length bytes, data, masked CRC of the data.
std::string tf_record(std::string_view data);

struct TfRecords {
  std::vector<std::string> records;
  bool truncated = false;  // the stream ends inside a record (a writer killed mid-write, or still writing)
};
// The records of a TFRecord stream with both CRCs of each checked. A record cut short at the end is dropped and
// flagged (TensorBoard reads such a tail as "not written yet"); a CRC mismatch fails naming `where` and the offset.
TfRecords read_tf_records(std::string_view bytes, const std::string& where);

struct TbScalar {
  std::string tag;
  float value = 0;
};
struct TbEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;       // set in a file's first event
  bool session_start = false;     // SessionLog.START: a (re)start; TensorBoard drops older events at >= step
  std::vector<TbScalar> scalars;  // simple_value summaries (other summary kinds are skipped)
};
// Every event of an event file (records checked as above, each parsed as an Event proto).
std::vector<TbEvent> parse_tb_events(std::string_view bytes, const std::string& where);
std::vector<TbEvent> read_tb_events(const std::filesystem::path& path);

// The events files in dir (events.out.tfevents.*), sorted by name = by creation time.
std::vector<std::filesystem::path> tb_event_files(const std::filesystem::path& dir);

// Writes one events file, flushed after every event so a crash loses at most the event being written.
class TbEventWriter {
 public:
  using Clock = std::function<double()>;  // seconds since the Unix epoch
  static double unix_now();

  // Creates logdir/events.out.tfevents.<unix seconds, 10 digits>.<hostname>.<pid>.<n> (n counts writers in this
  // process, like tensorboard's) and writes the file_version event and a SessionLog.START at first_step, the
  // first step this run logs: on a resume TensorBoard then drops what a killed run logged past its checkpoint.
  TbEventWriter(const std::filesystem::path& logdir, int64_t first_step, Clock clock = unix_now);
  ~TbEventWriter();
  TbEventWriter(const TbEventWriter&) = delete;
  TbEventWriter& operator=(const TbEventWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  // One train_log.jsonl object the way HF's TensorBoardCallback logs it: "step" is the step, keys eval_X become
  // eval/X, test_X test/X, every other key train/X; one scalar event per number, other values skipped.
  void add_log(const nlohmann::ordered_json& log);

  const std::filesystem::path& path() const { return path_; }

 private:
  void write_event(std::string_view serialized);
  std::filesystem::path path_;
  std::FILE* f_ = nullptr;
  Clock clock_;
};

}  // namespace scitune
