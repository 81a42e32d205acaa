// AtomicFile never leaves a half-written target and never overwrites silently; MappedFile names bad paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace scitune
