#include "export/staged_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "util/error.h"
#include "util/progress.h"

namespace scitune {

namespace fs = std::filesystem;

StagedOutput::StagedOutput(fs::path target, bool force, uint64_t bytes_needed) : target_(std::move(target)) {
  std::error_code ec;
  if (target_.filename().empty()) target_ = target_.parent_path();
  if (fs::exists(fs::symlink_status(target_, ec)) && !force)
    fail(target_.string() + ": already exists (refusing to overwrite; pass --force to replace it)");
  fs::path parent = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
  fs::create_directories(parent, ec);
  if (ec) fail(parent.string() + ": cannot create the folder (" + ec.message() + ")");
  const fs::space_info space = fs::space(parent, ec);
  const uint64_t want = bytes_needed + bytes_needed / 100;
  if (!ec && space.available < want)
    fail(parent.string() + ": not enough free disk space for this export (needs about " + human_bytes(want) +
         ", " + human_bytes(space.available) + " free)");
  staging_ = parent / ("." + target_.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(staging_, ec);
  fs::create_directory(staging_, ec);
  if (ec) fail(staging_.string() + ": cannot create the staging folder (" + ec.message() + ")");
}

StagedOutput::~StagedOutput() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void StagedOutput::commit() {
  for (const auto& e : fs::directory_iterator(staging_)) {  // files are complete on disk before the rename
    const int fd = ::open(e.path().c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(target_, ec))) {
    const fs::path old = staging_.string() + ".old";
    fs::rename(target_, old, ec);
    if (ec) fail(target_.string() + ": cannot replace it (" + ec.message() + ")");
    fs::rename(staging_, target_, ec);
    if (ec) {
      fs::rename(old, target_);
      fail(target_.string() + ": cannot move the export into place (" + ec.message() + ")");
    }
    fs::remove_all(old, ec);
  } else {
    fs::rename(staging_, target_, ec);
    if (ec) fail(target_.string() + ": cannot move the export into place (" + ec.message() + ")");
  }
  committed_ = true;
}

}  // namespace scitune
