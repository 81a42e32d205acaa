// Helpers shared by the test binaries: the message of a UserError, a fresh directory per test, seeded normal
// random vectors and the whole-tensor relative error the kernel tests compare with.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <sstream>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "util/error.h"

namespace scitune::testing {

// A whole file as bytes ("" when it cannot be read), and its number of '\n'.
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
inline size_t count_lines(const std::filesystem::path& p) {
  const std::string s = read_text(p);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// The UserError message f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

// A fixture with dir_: an empty directory made for each test and removed after it.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           (std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

// n draws of N(0, scale^2) from std::normal_distribution<float> over an Engine seeded with `seed`.
template <class Engine, class Seed>
std::vector<float> randn_with(size_t n, Seed seed, float scale) {
  Engine rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Over a std::mt19937 (the kernel tests' inputs).
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  return randn_with<std::mt19937>(n, seed, scale);
}

// Over a std::mt19937_64: a different stream from randn's for the same seed (the sampler tests' logits).
inline std::vector<float> randn_mt64(size_t n, uint64_t seed, float scale = 1.0f) {
  return randn_with<std::mt19937_64>(n, seed, scale);
}

// max |a-b| / max(|b|, tiny) over a's elements, in double: one relative error for the whole tensor. a and b are
// any indexable float or double containers (vectors, spans) of the same size.
template <class A, class B>
double rel_err(const A& a, const B& b) {
  double num = 0, den = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    den = std::max(den, std::fabs(static_cast<double>(b[i])));
  }
  return num / den;
}

}  // namespace scitune::testing
