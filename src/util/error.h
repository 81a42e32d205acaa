// One error type for the whole project. Boundaries (files, CLI, HTTP) throw UserError naming the file/field
// and what was expected; broken invariants throw InternalError. The CLI maps them to exit codes 1 and 2.
#pragma once
#include <stdexcept>
#include <string>

namespace scitune {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from the user: a file, a field, a flag. Exit code 1.
class UserError : public Error {
 public:
  using Error::Error;
};

// A bug or an impossible state inside scitune. Exit code 2.
class InternalError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] inline void fail(const std::string& msg) { throw UserError(msg); }

}  // namespace scitune

// Invariant check that survives release builds; message says where.
#define SCITUNE_CHECK(cond, msg)                                                                     \
  do {                                                                                               \
    if (!(cond))                                                                                     \
      throw ::scitune::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + \
                                     std::string(msg) + " (check failed: " #cond ")");               \
  } while (0)
