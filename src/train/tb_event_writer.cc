#include "train/tb_event_writer.h"

#include <isa-l/crc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "train/tb_event.pb.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

namespace fs = std::filesystem;

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::atomic<int> g_writer_count{0};  // tensorboard's _global_uid: the last part of the file name

// HF transformers' rewrite_logs (integrations/integration_utils.py).
std::string hf_tag(const std::string& key) {
  if (key.rfind("eval_", 0) == 0) return "eval/" + key.substr(5);
  if (key.rfind("test_", 0) == 0) return "test/" + key.substr(5);
  return "train/" + key;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  // ISA-L's crc32_iscsi neither inverts the seed nor the result: the standard CRC-32C is ~f(~0) and chains as
  // raw state; its length is an int, so feed it in pieces.
  uint32_t state = 0xFFFFFFFFu;
  auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));  // ISA-L only reads it
  size_t left = data.size();
  while (left > 0) {
    const int n = static_cast<int>(std::min<size_t>(left, 1u << 30));
    state = crc32_iscsi(p, n, state);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return ~state;
}

uint32_t masked_crc32c(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tf_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out.append(data);
  put_le(out, masked_crc32c(data), 4);
  return out;
}

TfRecords read_tf_records(std::string_view bytes, const std::string& where) {
  TfRecords r;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t left = bytes.size() - pos;
    if (left < 12) {
      r.truncated = true;
      break;
    }
    const char* p = bytes.data() + pos;
    if (get_le(p + 8, 4) != masked_crc32c(std::string_view(p, 8)))
      fail(where + ": TFRecord at byte " + std::to_string(pos) +
           ": length CRC mismatch (not an event file, or damaged)");
    const uint64_t len = get_le(p, 8);
    if (len > left - 12 || left - 12 - len < 4) {  // written in full only when the data CRC is there too
      r.truncated = true;
      break;
    }
    const std::string_view data(p + 12, len);
    if (get_le(p + 12 + len, 4) != masked_crc32c(data))
      fail(where + ": TFRecord at byte " + std::to_string(pos) + ": data CRC mismatch (damaged)");
    r.records.emplace_back(data);
    pos += 16 + len;
  }
  return r;
}

std::vector<TbEvent> parse_tb_events(std::string_view bytes, const std::string& where) {
  std::vector<TbEvent> out;
  const TfRecords recs = read_tf_records(bytes, where);
  for (size_t i = 0; i < recs.records.size(); ++i) {
    tbproto::Event pb;
    const std::string& rec = recs.records[i];
    if (rec.size() > INT_MAX || !pb.ParseFromArray(rec.data(), static_cast<int>(rec.size())))
      fail(where + ": record " + std::to_string(i) + ": not an Event protobuf");
    TbEvent e;
    e.wall_time = pb.wall_time();
    e.step = pb.step();
    if (pb.has_file_version()) e.file_version = pb.file_version();
    e.session_start = pb.has_session_log() && pb.session_log().status() == tbproto::SessionLog::START;
    if (pb.has_summary())
      for (const auto& v : pb.summary().value())
        if (v.has_simple_value()) e.scalars.push_back({v.tag(), v.simple_value()});
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<TbEvent> read_tb_events(const fs::path& path) {
  const MappedFile f(path);
  if (f.size() == 0) return {};
  return parse_tb_events(std::string_view(reinterpret_cast<const char*>(f.data()), f.size()), path.string());
}

std::vector<fs::path> tb_event_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().find("tfevents") != std::string::npos)
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

double TbEventWriter::unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TbEventWriter::TbEventWriter(const fs::path& logdir, int64_t first_step, Clock clock) : clock_(std::move(clock)) {
  std::error_code ec;
  fs::create_directories(logdir, ec);
  if (ec) fail(logdir.string() + ": cannot create the TensorBoard log folder (" + ec.message() + ")");
  const double now = clock_();
  char name[64];
  std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.", static_cast<long long>(now));
  path_ = logdir / (name + hostname() + "." + std::to_string(getpid()) + "." + std::to_string(g_writer_count++));
  f_ = std::fopen(path_.c_str(), "wbx");  // x: never append to another writer's file
  if (!f_) fail(path_.string() + ": cannot create (" + std::strerror(errno) + ")");
  tbproto::Event version;
  version.set_wall_time(now);
  version.set_file_version("brain.Event:2");
  write_event(version.SerializeAsString());
  tbproto::Event start;
  start.set_wall_time(now);
  start.set_step(first_step);
  start.mutable_session_log()->set_status(tbproto::SessionLog::START);
  write_event(start.SerializeAsString());
}

TbEventWriter::~TbEventWriter() {
  if (f_) std::fclose(f_);
}

void TbEventWriter::write_event(std::string_view serialized) {
  const std::string rec = tf_record(serialized);
  if (std::fwrite(rec.data(), 1, rec.size(), f_) != rec.size() || std::fflush(f_) != 0)
    fail(path_.string() + ": write failed (" + std::strerror(errno) + ")");
}

void TbEventWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  tbproto::Event e;
  e.set_wall_time(clock_());
  e.set_step(step);
  tbproto::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  write_event(e.SerializeAsString());
}

void TbEventWriter::add_log(const nlohmann::ordered_json& log) {
  SCITUNE_CHECK(log.contains("step") && log["step"].is_number_integer(), "a log line without an integer step");
  const int64_t step = log["step"].get<int64_t>();
  const double now = clock_();
  for (const auto& [key, value] : log.items()) {
    if (key == "step" || !value.is_number()) continue;
    tbproto::Event e;
    e.set_wall_time(now);
    e.set_step(step);
    tbproto::Summary::Value* v = e.mutable_summary()->add_value();
    v->set_tag(hf_tag(key));
    v->set_simple_value(value.get<float>());
    write_event(e.SerializeAsString());
  }
}

}  // namespace scitune
