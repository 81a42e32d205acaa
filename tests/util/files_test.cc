// AtomicFile never leaves a half-written target and never overwrites silently; MappedFile names bad paths and
// gives pages back on request.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scitune_files_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  fs::path dir_;
};

TEST_F(FilesTest, CommitWritesAllBytesAndLeavesNoTemp) {
  auto p = dir_ / "out.bin";
  {
    AtomicFile f(p);
    std::string big(3 << 20, 'x');  // larger than the write buffer
    f.write(big);
    f.write_zeros(5);
    EXPECT_EQ(f.bytes_written(), big.size() + 5);
    f.commit();
  }
  EXPECT_EQ(fs::file_size(p), (3u << 20) + 5);
  EXPECT_EQ(entries(), 1u);
  MappedFile m(p);
  EXPECT_EQ(m.size(), (3u << 20) + 5);
  EXPECT_EQ(m.data()[0], 'x');
  EXPECT_EQ(m.data()[m.size() - 1], 0);
}

TEST_F(FilesTest, UncommittedWriterLeavesNothing) {
  auto p = dir_ / "out.bin";
  {
    AtomicFile f(p);
    f.write(std::string("partial"));
  }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(FilesTest, RefusesToOverwriteUnlessAsked) {
  auto p = dir_ / "user.txt";
  write_file_atomic(p, "precious");
  try {
    write_file_atomic(p, "clobber");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("user.txt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos);
  }
  MappedFile m(p);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.data()), m.size()), "precious");
  write_file_atomic(p, "replaced", Overwrite::kYes);
  MappedFile m2(p);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m2.data()), m2.size()), "replaced");
}

TEST_F(FilesTest, MissingParentAndDirectoryTargetsAreUserErrors) {
  EXPECT_THROW(AtomicFile(dir_ / "no" / "such" / "file"), UserError);
  EXPECT_THROW(AtomicFile(dir_, Overwrite::kYes), UserError);
}

TEST_F(FilesTest, MappedFileNamesMissingPathAndHandlesEmptyFile) {
  try {
    MappedFile m(dir_ / "missing.gguf");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.gguf"), std::string::npos);
  }
  EXPECT_THROW(MappedFile m(dir_), UserError);
  std::ofstream(dir_ / "empty").close();
  MappedFile e(dir_ / "empty");
  EXPECT_EQ(e.size(), 0u);
  EXPECT_TRUE(e.bytes().empty());
}

// RssFile of this process in KiB (the mapped file pages it holds).
long rss_file_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
  return -1;
}

TEST_F(FilesTest, DroppedPagesLeaveTheResidentSetButNotTheData) {
  const auto p = dir_ / "weights.bin";
  std::string body(16 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 % 251);
  write_file_atomic(p, body);
  MappedFile m(p);
  volatile uint64_t sum = 0;  // volatile: the reads must happen
  for (size_t i = 0; i < m.size(); i += 4096) sum = sum + m.data()[i];  // fault every page in
  const long before = rss_file_kib();
  m.drop_resident_pages(m.bytes());
  const long after = rss_file_kib();
  if (before >= 0) {
    EXPECT_GE(before - after, 12 << 10) << "RssFile " << before << " -> " << after << " KiB";
  }
  // The pages come back from the file on the next read.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.data()), m.size()), body);
  // Memory that is not this mapping (here a heap buffer) is never touched: madvise would zero it.
  std::vector<uint8_t> heap(1 << 20, 7);
  m.drop_resident_pages(heap);
  EXPECT_EQ(heap, std::vector<uint8_t>(1 << 20, 7));
}

}  // namespace
}  // namespace scitune
