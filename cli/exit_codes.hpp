// The exit status of the `tether` binary (docs/cli.md, "Exit codes"). Scripts rely on
// these numbers: never renumber one, only add.
#pragma once

#include "core/status.hpp"

namespace tether {

enum exit_code : int {
  exit_ok = 0,             ///< the command did what it was asked
  exit_failure = 1,        ///< a failure inside tether itself
  exit_usage = 2,          ///< a bad option or option value
  exit_bad_data = 3,       ///< missing or corrupt data file, model does not fit the data
  exit_checkpoint = 4,     ///< checkpoint directory not writable, corrupt, model mismatch
  exit_restart_budget = 5, ///< the supervisor's restart budget was spent
  exit_diverged = 6,       ///< training diverged: a loss or gradient was not finite
  exit_interrupted = 130,  ///< stopped by SIGINT/SIGTERM after writing a final checkpoint
};

/// The exit code for a failed status from core/ or messages/. Checkpoint failures are
/// io_error, corrupt_data or mismatch too: the caller that knows a status came from the
/// checkpointer maps it to exit_checkpoint itself.
constexpr int exit_code_for(errc code) {
  switch (code) {
  case errc::ok:
    return exit_ok;
  case errc::invalid_argument:
    return exit_usage;
  case errc::not_found:
  case errc::corrupt_data:
  case errc::mismatch:
    return exit_bad_data;
  case errc::io_error:
    return exit_checkpoint;
  case errc::internal:
    return exit_failure;
  }
  return exit_failure;
}

} // namespace tether
