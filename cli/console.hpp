// Where `tether train` writes what it has to say: progress on stdout, messages on
// stderr, and all of it (timestamped) to --log-file, filtered by --log-level. On a
// terminal a status bar redraws in place between progress lines; when stdout is not a
// terminal (CI, logs) only plain lines are written.
#pragma once

#include "actors/job_config.hpp"
#include "actors/job_status.hpp"
#include "core/status.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace tether {

enum class level { error = 0, warning = 1, info = 2 };

class console {
public:
  /// Opens --log-file for appending; an error names the file.
  static result<std::unique_ptr<console>> open(const job_config& cfg);
  ~console();

  /// A progress line (stdout unless --quiet; info).
  void progress(const std::string& text);
  /// A result line that --quiet still shows (stdout; info).
  void result_line(const std::string& text);
  /// A message for stderr, prefixed "tether: ".
  void message(level lvl, const std::string& text);
  /// Redraws the one-line status bar (terminals only; nothing otherwise).
  void status_bar(const job_status& status);

private:
  console(const job_config& cfg, std::FILE* log);
  void log(level lvl, const std::string& text);
  void clear_bar();

  const job_config& cfg_;
  std::FILE* log_ = nullptr;
  level threshold_ = level::info;
  bool tty_ = false;
  bool bar_shown_ = false;
};

} // namespace tether
