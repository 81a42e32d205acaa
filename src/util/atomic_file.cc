#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "util/error.h"

namespace scitune {

namespace {
std::string random_suffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
}
}  // namespace

AtomicFile::AtomicFile(const std::filesystem::path& target, Overwrite overwrite) : target_(target) {
  std::error_code ec;
  if (overwrite == Overwrite::kNo && std::filesystem::exists(target, ec))
    fail(target.string() + ": already exists (refusing to overwrite; pass --force to replace it)");
  if (std::filesystem::is_directory(target, ec)) fail(target.string() + ": is a directory, expected a file path");
  auto dir = target.parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
    fail(target.string() + ": parent directory does not exist");
  temp_ = target;
  temp_ += ".tmp." + random_suffix();
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(temp_.string() + ": cannot create: " + std::strerror(errno));
  buf_ = new uint8_t[kBufSize];
}

AtomicFile::~AtomicFile() {
  delete[] buf_;
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::flush_buffer() {
  size_t off = 0;
  while (off < buf_used_) {
    ssize_t n = ::write(fd_, buf_ + off, buf_used_ - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(temp_.string() + ": write failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  buf_used_ = 0;
}

void AtomicFile::write(const void* data, size_t n) {
  SCITUNE_CHECK(fd_ >= 0 && !committed_, "write after commit");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  written_ += n;
  while (n > 0) {
    size_t take = std::min(n, kBufSize - buf_used_);
    std::memcpy(buf_ + buf_used_, p, take);
    buf_used_ += take;
    p += take;
    n -= take;
    if (buf_used_ == kBufSize) flush_buffer();
  }
}

void AtomicFile::write_zeros(size_t n) {
  static const uint8_t zeros[256] = {};
  while (n > 0) {
    size_t take = std::min(n, sizeof zeros);
    write(zeros, take);
    n -= take;
  }
}

void AtomicFile::commit() {
  SCITUNE_CHECK(fd_ >= 0 && !committed_, "commit twice");
  flush_buffer();
  if (::fsync(fd_) != 0) fail(temp_.string() + ": fsync failed: " + std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), target_.c_str()) != 0)
    fail(target_.string() + ": cannot rename temporary file into place: " + std::strerror(errno));
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& target, std::string_view contents, Overwrite overwrite) {
  AtomicFile f(target, overwrite);
  f.write(contents);
  f.commit();
}

}  // namespace scitune
