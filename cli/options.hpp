// The command line of the `tether` binary: subcommands, the one table of `tether train`
// options, help and version text. No CAF: CAF's own option parser is not used.
//
// Grammar (docs/cli.md):
//   tether --help | -h | --version
//   tether train [--config=FILE] [--name=value | --name value | --flag | --flag=true|false]...
//                [--help]
// Rules:
//   - every option has a name, a value placeholder, a help line, a default and a setter;
//     the default shown by --help is rendered from a default-constructed job_config, so
//     the help text cannot disagree with the code;
//   - a value is parsed and checked at once; a failure names the option and what it
//     expects ("--workers=abc: expected a whole number from 1 to 256");
//   - flags (--resume, --quiet) never take the next argument as their value;
//   - an option given twice: the later one wins (so wrappers can append overrides), except
//     a repeatable option (--straggler), whose values add up;
//   - --config=FILE (cli/config_file.hpp) sets options from a file of `name = value`
//     lines, through the same rows, before the command line: the command line wins (a
//     repeatable option given on the command line replaces the file's values);
//   - positional arguments are an error; --help anywhere after the command wins over
//     every other argument, even a bad one;
//   - with --dataset=linreg, the options whose linreg default differs from the general
//     default (linreg_defaults()) take the linreg default unless given explicitly (on the
//     command line or in the config file);
//   - --dataset=csv needs --train and --test; --train and --test with another dataset are
//     a usage error.
// Failures are errc::invalid_argument statuses (exit code 2, cli/exit_codes.hpp).
// Thread-safety: all functions are pure; the table is immutable after first use.
#pragma once

#include "actors/job_config.hpp"
#include "core/status.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tether {

/// One row of the option table.
struct option_spec {
  std::string_view name;        ///< without the leading "--", e.g. "workers"
  std::string_view placeholder; ///< e.g. "N", "DIR"; empty for flags
  std::string_view help;        ///< one line, no trailing period
  /// The option's current value in `cfg` as text that `set` accepts again.
  std::function<std::string(const job_config& cfg)> render;
  /// Parses and checks `text`, stores it into `cfg`. On failure the status message
  /// says what was expected, without the option name (the caller prefixes it).
  std::function<status(job_config& cfg, const std::string& text)> set;
  /// Each `set` adds to the value (--straggler) instead of replacing it.
  bool repeatable = false;

  bool is_flag() const { return placeholder.empty(); }
};

/// The options of `tether train`, in the order help and effective_options show them.
const std::vector<option_spec>& train_options();

/// The row named `name` (without "--"), or nullptr.
const option_spec* find_train_option(std::string_view name);

/// " (did you mean <prefix>NAME?)" when one of `candidates` is close to `given` in edit
/// distance or is the only one starting with it; "" otherwise.
std::string did_you_mean(std::string_view given, const std::vector<std::string_view>& candidates,
                         std::string_view prefix);

/// Digits only: no sign, no space, no garbage, no overflow; lo <= value <= hi. The
/// failure says "expected a whole number from LO to HI" (the caller names the option).
result<uint64_t> parse_whole(const std::string& text, uint64_t lo, uint64_t hi);

/// A default-constructed job_config with the --dataset=linreg defaults applied.
job_config linreg_defaults();

/// A default-constructed job_config with the --dataset=text defaults (the language
/// model's job: docs/lm.md) applied.
job_config text_defaults();

struct parsed_command {
  std::string command; ///< "train", or "" for the top level
  job_config config;
  bool show_help = false;    ///< print help_text(command), exit 0
  bool show_version = false; ///< print version_text(), exit 0
};

/// argv[0] is the program. Reads the --config file if one is given. Fills
/// config.effective_options on success.
result<parsed_command> parse_command_line(int argc, const char* const* argv);

/// Usage text: "" gives the top level listing the subcommands; "train" lists every
/// option with its default (and its linreg default where that differs).
std::string help_text(const std::string& command);

/// "tether <version>".
std::string version_text();

/// "name=value" per line, every option, in table order.
std::string effective_options_text(const job_config& cfg);

/// The options as a Markdown table (option, default, linreg default, meaning); the
/// table in docs/cli.md is this text, checked by tests/cli/options_test.cpp.
std::string options_markdown_table();

} // namespace tether
