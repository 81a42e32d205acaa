// Where an export goes. The target is a folder: refused if it exists (unless forced), free space checked up
// front, everything written into a hidden staging folder beside it and renamed into place only when the whole
// export is complete — so a failed or interrupted export leaves nothing that looks finished.
#pragma once
#include <cstdint>
#include <filesystem>

namespace scitune {

class StagedOutput {
 public:
  // UserError if `target` exists and !force, or its file system has less than `bytes_needed` (+1%) free.
  StagedOutput(std::filesystem::path target, bool force, uint64_t bytes_needed);
  ~StagedOutput();  // removes the staging folder unless committed
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  const std::filesystem::path& dir() const { return staging_; }  // write the export here
  const std::filesystem::path& target() const { return target_; }
  void commit();  // fsyncs the files, replaces an old target (forced), renames the staging folder into place

 private:
  std::filesystem::path target_, staging_;
  bool committed_ = false;
};

}  // namespace scitune
