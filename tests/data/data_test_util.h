// Helpers for the data tests: write plain, gzip and zstd files, and read every record of a file.
#pragma once
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/record_source.h"
#include "test_util.h"

namespace scitune::testing {

inline std::filesystem::path write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  return path;
}

inline std::string gzip_bytes(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, uLong(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = uInt(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string zstd_bytes(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

struct ReadAll {
  std::vector<RawRecord> records;
  std::string format;
};

inline ReadAll read_all(const std::filesystem::path& path, const ReaderLimits& limits = {}) {
  auto src = open_record_source(path, limits);
  ReadAll r;
  r.format = std::string(src->format());
  while (auto rec = src->next()) r.records.push_back(std::move(*rec));
  return r;
}

}  // namespace scitune::testing
