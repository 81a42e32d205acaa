#include "data/byte_source.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <cstring>
#include <vector>

#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

namespace {

constexpr size_t kOutChunk = 1 << 20;

std::string mib(size_t n) {
  return n % (1 << 20) == 0 ? std::to_string(n >> 20) + " MiB" : std::to_string(n) + " bytes";
}

// The compressed or plain bytes, and the map that keeps them alive (none for caller-owned memory).
struct Input {
  std::shared_ptr<const MappedFile> file;
  std::span<const uint8_t> bytes;
  std::string name;
};

class PlainSource : public ByteSource {
 public:
  explicit PlainSource(Input in) : in_(std::move(in)) {}
  std::span<const uint8_t> next() override {
    if (done_) return {};
    done_ = true;
    return in_.bytes;
  }
  Compression compression() const override { return Compression::kNone; }

 private:
  Input in_;
  bool done_ = false;
};

class GzipSource : public ByteSource {
 public:
  explicit GzipSource(Input in) : in_(std::move(in)), out_(kOutChunk) {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) fail(in_.name + ": cannot start the gzip decoder");
    z_.next_in = const_cast<Bytef*>(in_.bytes.data());
    z_.avail_in = 0;
    remaining_ = in_.bytes.size();
  }
  ~GzipSource() override { inflateEnd(&z_); }
  Compression compression() const override { return Compression::kGzip; }

  std::span<const uint8_t> next() override {
    z_.next_out = out_.data();
    z_.avail_out = uInt(out_.size());
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && remaining_ > 0) {  // zlib counts input in uInt: feed large maps in pieces
        const size_t n = std::min<size_t>(remaining_, 1u << 30);
        z_.avail_in = uInt(n);
        remaining_ -= n;
      }
      if (z_.avail_in == 0 && at_member_end_) break;  // clean end after a complete member
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        at_member_end_ = true;
        if (z_.avail_in == 0 && remaining_ == 0) break;
        inflateReset(&z_);  // another member follows (concatenated .gz files)
        continue;
      }
      at_member_end_ = false;
      if (rc == Z_BUF_ERROR && z_.avail_in == 0 && remaining_ == 0)
        fail(in_.name + ": gzip stream is truncated (the file ends inside compressed data)");
      if (rc != Z_OK)
        fail(in_.name + ": corrupt gzip data at compressed byte " + std::to_string(z_.next_in - in_.bytes.data()) +
             (z_.msg ? std::string(": ") + z_.msg : std::string()));
    }
    return {out_.data(), out_.size() - z_.avail_out};
  }

 private:
  Input in_;
  z_stream z_{};
  std::vector<uint8_t> out_;
  size_t remaining_ = 0;
  bool at_member_end_ = false;
};

class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(Input in) : src_(std::move(in)), out_(kOutChunk) {
    ctx_ = ZSTD_createDCtx();
    if (!ctx_) fail(src_.name + ": cannot start the zstd decoder");
    in_ = {src_.bytes.data(), src_.bytes.size(), 0};
  }
  ~ZstdSource() override { ZSTD_freeDCtx(ctx_); }
  Compression compression() const override { return Compression::kZstd; }

  std::span<const uint8_t> next() override {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    while (out.pos < out.size) {
      if (in_.pos == in_.size && last_ == 0) break;  // every frame complete
      const size_t before_in = in_.pos, before_out = out.pos;
      last_ = ZSTD_decompressStream(ctx_, &out, &in_);
      if (ZSTD_isError(last_))
        fail(src_.name + ": corrupt zstd data at compressed byte " + std::to_string(in_.pos) + ": " +
             ZSTD_getErrorName(last_) +
             (ZSTD_getErrorCode(last_) == ZSTD_error_frameParameter_windowTooLarge
                  ? " (compressed with --long; recompress without it)"
                  : ""));
      if (in_.pos == in_.size && last_ != 0 && before_in == in_.pos && before_out == out.pos)
        fail(src_.name + ": zstd stream is truncated (the file ends inside a frame)");
    }
    return {out_.data(), out.pos};
  }

 private:
  Input src_;
  ZSTD_DCtx* ctx_ = nullptr;
  ZSTD_inBuffer in_{};
  std::vector<uint8_t> out_;
  size_t last_ = 0;
};

}  // namespace

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

namespace {

std::unique_ptr<ByteSource> open_input(Input in, std::string_view ext) {
  const auto b = in.bytes;
  const bool gz = b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b;
  const bool zst = b.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd;
  if (ext == ".gz" && !gz) fail(in.name + ": named .gz but is not gzip data (no 1f 8b magic)");
  if ((ext == ".zst" || ext == ".zstd") && !zst)
    fail(in.name + ": named " + std::string(ext) + " but is not zstd data (no 28 b5 2f fd magic)");
  if (gz) return std::make_unique<GzipSource>(std::move(in));
  if (zst) return std::make_unique<ZstdSource>(std::move(in));
  return std::make_unique<PlainSource>(std::move(in));
}

}  // namespace

std::unique_ptr<ByteSource> open_byte_source(const std::filesystem::path& path) {
  auto file = std::make_shared<const MappedFile>(path);
  const auto bytes = file->bytes();
  return open_input({std::move(file), bytes, path.string()}, path.extension().string());
}

std::unique_ptr<ByteSource> memory_byte_source(std::span<const uint8_t> bytes, const std::string& name) {
  return open_input({nullptr, bytes, name}, std::filesystem::path(name).extension().string());
}

LineReader::LineReader(std::unique_ptr<ByteSource> source, std::string name, size_t max_line_bytes)
    : source_(std::move(source)), name_(std::move(name)), max_line_(max_line_bytes) {}

bool LineReader::refill() {
  if (eof_) return false;
  chunk_ = source_->next();
  pos_ = 0;
  if (chunk_.empty()) eof_ = true;
  return !eof_;
}

std::optional<std::string_view> LineReader::next() {
  carry_.clear();
  auto too_long = [&] {
    fail(name_ + ":" + std::to_string(line_ + 1) + ": line is longer than the limit of " + mib(max_line_) +
         " (a JSON-lines record per line expected)");
  };
  auto finish = [&](std::string_view s) {
    ++line_;
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  };
  while (true) {
    if (pos_ >= chunk_.size() && !refill()) {
      if (carry_.empty()) return std::nullopt;
      return finish(carry_);
    }
    const char* begin = reinterpret_cast<const char*>(chunk_.data()) + pos_;
    const size_t avail = chunk_.size() - pos_;
    const void* nl = std::memchr(begin, '\n', avail);
    const size_t len = nl ? size_t(static_cast<const char*>(nl) - begin) : avail;
    if (carry_.size() + len > max_line_) too_long();
    pos_ += len + (nl ? 1 : 0);
    if (nl && carry_.empty()) return finish(std::string_view(begin, len));  // zero copy
    carry_.append(begin, len);
    if (nl) return finish(carry_);
  }
}

}  // namespace scitune
