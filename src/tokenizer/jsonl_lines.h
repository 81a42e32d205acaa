// Reads a JSON-lines file (or stdin for "-") one object per line, with errors naming the file and line.
// Blank lines are errors (they would silently shift the line-for-line correspondence of outputs).
#pragma once
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "util/error.h"

namespace scitune {

class JsonlLines {
 public:
  struct Row {
    nlohmann::json value;
    size_t line;
    std::string where;  // "<file>:<line>"
  };
  explicit JsonlLines(const std::string& path);
  std::optional<Row> next();

 private:
  std::string name_;
  std::ifstream file_;
  std::istream* in_;
  size_t line_ = 0;
};

}  // namespace scitune
