// --metrics-log=FILE: every evaluation point appended to FILE as one JSON line
// ({"unix_time": seconds since 1970, then the keys of a point of status_json's curve}), written and
// flushed at once so that a crash loses at most the line being written. An existing file is
// appended to, never truncated: a resumed job continues the same log.
//
// Thread: one owner (train_command calls append() from the on_point hook, main thread).
// Failure: open() returns errc::invalid_argument (exit code 2: the path cannot be used; a
// FIFO nobody reads is refused, never waited on: cli/output_paths.hpp), append()
// errc::io_error; both name the file and the reason. After a failed append the log stays
// usable for the next point.
#pragma once

#include "actors/report.hpp"
#include "core/status.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace tether {

class metrics_log {
public:
  /// Opens (creates) `path` for appending. `sync`: also fsync after each line (slower;
  /// survives a machine crash, not only a process crash).
  static result<std::unique_ptr<metrics_log>> open(const std::string& path, bool sync = false);

  ~metrics_log();
  metrics_log(const metrics_log&) = delete;
  metrics_log& operator=(const metrics_log&) = delete;

  status append(const progress_point& point);

  const std::string& path() const { return path_; }

private:
  metrics_log(std::FILE* file, std::string path, bool sync)
      : file_(file), path_(std::move(path)), sync_(sync) {}
  std::FILE* file_;
  std::string path_;
  bool sync_;
};

/// One point as the line append() writes, without the newline (for tests and tools).
std::string metrics_log_line(const progress_point& point, double unix_time);

} // namespace tether
