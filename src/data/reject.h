// A record that is not used for training, and why. Rejects are counted by kind and reported with their
// first few messages, never dropped silently; a bad FILE (cannot be read, corrupt compression, a line over
// the size limit, a broken JSON array) is a UserError instead, because nothing after it can be trusted.
#pragma once
#include <string>

#include "util/error.h"

namespace scitune {

struct Reject {
  std::string kind;     // short and stable, the key of the report's counts: "invalid JSON", "empty answer", ...
  std::string message;  // one line starting with "<file>:<line>: "
};

// Thrown while a record is converted or tokenised; caught by the pipeline and turned into a Reject.
class RecordReject : public UserError {
 public:
  RecordReject(std::string kind, const std::string& message) : UserError(message), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }
  Reject reject() const { return {kind_, what()}; }

 private:
  std::string kind_;
};

}  // namespace scitune
