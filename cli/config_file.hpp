// The file of `tether train --config=FILE`: options of a job, one `name = value` a line,
// with the names of the command-line options (train_options(), cli/options.hpp) without
// the leading "--".
//
// Grammar:
//   file     := line*
//   line     := blank | comment | setting [comment]
//   comment  := "#" any text         at the start of a line or after a space or tab
//   setting  := name "=" value       spaces and tabs around name and value are ignored
//             | flag-name            a flag alone means flag = true
//   value    := the rest of the line up to a comment; may be empty (e.g. summary =)
// A name may appear twice: the later line wins, except for a repeatable option
// (straggler), whose values add up, as on the command line. `config` itself cannot be
// set in the file. Relative paths in values are relative to the current directory, as
// on the command line (not to the file's directory).
//
// This file checks the syntax and the names; the values are checked by the same row
// setters as the command line's when parse_command_line applies them. Every failure is
// errc::invalid_argument (exit code 2) and starts with "FILE:LINE: ", e.g.
//   run.conf:7: unknown option "wokers" (did you mean workers?)
// Thread-safety: plain functions over the immutable option table.
#pragma once

#include "cli/options.hpp"
#include "core/status.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace tether {

/// One setting of a config file.
struct config_setting {
  const option_spec* option = nullptr; ///< a row of train_options(), never null
  std::string value;                   ///< trimmed; "true" for a flag given alone
  size_t line = 0;                     ///< 1-based line number in the file
};

/// Parses the text of a config file. `path` is used in messages only.
result<std::vector<config_setting>> parse_config_text(const std::string& text,
                                                      const std::string& path);

/// The largest config file read (1 MiB: thousands of lines), and how long a FIFO or a
/// device (/dev/stdin, a process substitution) may take to deliver the whole file.
inline constexpr size_t max_config_bytes = size_t{1} << 20;
inline constexpr std::chrono::milliseconds max_config_wait{10000};

/// Reads and parses the file at `path`; a missing or unreadable file, a directory, a
/// file over max_config_bytes (/dev/zero: at once) or one that does not end within
/// max_config_wait is an error naming it.
result<std::vector<config_setting>> read_config_file(const std::string& path);

/// "FILE:LINE", the prefix of every message about a setting of the file.
std::string config_location(const std::string& path, size_t line);

} // namespace tether
