#include "cli/train_command.hpp"

#include "actors/job.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "cli/summary.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace tether {

namespace {

int exit_code_for(job_failure failure) {
  switch (failure) {
    case job_failure::none: return exit_ok;
    case job_failure::usage: return exit_usage;
    case job_failure::data: return exit_bad_data;
    case job_failure::checkpoint: return exit_checkpoint;
    case job_failure::runtime: return exit_failure;
    case job_failure::budget: return exit_restart_budget;
  }
  return exit_failure;
}

/// The summary file is written at the end; a directory that is not there would lose
/// the whole run's result, so it is checked before training.
status check_summary_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty())
    return status::ok();
  auto dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return status{errc::io_error, "--summary=" + path + ": directory \"" + dir.string()
                                    + "\" does not exist; create it or choose another path"};
  if (fs::is_directory(path, ec))
    return status{errc::io_error, "--summary=" + path + " is a directory; give a file name"};
  return status::ok();
}

} // namespace

int train_command(const job_config& cfg) {
  if (auto st = check_summary_path(cfg.summary_path); !st) {
    std::cerr << "tether: " << st.message() << "\n";
    return exit_usage;
  }
  if (!cfg.quiet)
    std::cout << banner(cfg) << std::flush;
  install_stop_signals();
  job_hooks hooks;
  hooks.on_message = [&](const std::string& line) { std::cerr << "tether: " << line << "\n"; };
  hooks.on_point = [&](const progress_point& p, job_control&) {
    if (!cfg.quiet)
      std::cout << progress_line(cfg, p) << std::flush;
  };
  hooks.stop_requested = [] { return stop_signal_received(); };
  auto outcome = run_job(cfg, hooks);
  if (outcome.report) {
    std::cout << closing_lines(cfg, outcome) << std::flush;
    if (!cfg.summary_path.empty() && !outcome.report->final_params.empty()) {
      if (auto st = write_file_atomically(cfg.summary_path, summary_json(cfg, outcome)); !st) {
        std::cerr << "tether: " << st.message() << "\n";
        if (outcome.failure == job_failure::none)
          return exit_checkpoint;
      }
    }
  }
  if (outcome.failure != job_failure::none) {
    std::cerr << "tether: " << outcome.message << "\n";
    return exit_code_for(outcome.failure);
  }
  if (outcome.report && outcome.report->stopped_early) {
    std::cerr << "tether: stopped by signal; continue with the same options and --resume\n";
    return exit_interrupted;
  }
  return exit_ok;
}

} // namespace tether
