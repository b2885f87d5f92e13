// Helpers of the command-line tests: parse an argument list as the binary would, and read
// the effective options back.
#pragma once

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

namespace tether::testing {

/// `tether args...`
inline result<parsed_command> parse_args(std::vector<std::string> args) {
  args.insert(args.begin(), "tether");
  std::vector<const char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

/// `tether train args...`
inline result<parsed_command> parse_train(std::vector<std::string> args) {
  args.insert(args.begin(), "train");
  return parse_args(std::move(args));
}

/// The configuration of `tether train args...`, which must parse.
inline job_config train(std::vector<std::string> args) {
  auto parsed = parse_train(std::move(args));
  REQUIRE_MESSAGE(parsed.is_ok(), parsed.error().message());
  CHECK(parsed->command == "train");
  CHECK_FALSE(parsed->show_help);
  return parsed->config;
}

/// The message of a failed `tether train args...`, which must be a usage error.
inline std::string train_error(std::vector<std::string> args) {
  auto parsed = parse_train(std::move(args));
  REQUIRE_FALSE(parsed.is_ok());
  CHECK(parsed.error().code() == errc::invalid_argument);
  CHECK(exit_code_for(parsed.error().code()) == exit_usage);
  return parsed.error().message();
}

/// The value of option `name` in cfg's effective options.
inline std::string value_of(const job_config& cfg, const std::string& name) {
  std::istringstream lines(cfg.effective_options);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(name + "="))
      return line.substr(name.size() + 1);
  FAIL("no line for " << name);
  return {};
}

} // namespace tether::testing
