#include "cli/train_command.hpp"

#include "actors/job.hpp"
#include "cli/console.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json.hpp"
#include "cli/metrics_log.hpp"
#include "cli/metrics_server.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "cli/summary.hpp"
#include "messages/rejections.hpp"

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
    case job_failure::diverged: return exit_diverged;
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

/// The effective options, wrapped: every option of the job, as stored in its checkpoints.
std::string options_paragraph(const job_config& cfg) {
  std::string out = "  options:";
  size_t column = out.size();
  std::string text = cfg.effective_options;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    auto item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (column + 1 + item.size() > 100) {
      out += "\n   ";
      column = 3;
    }
    out += " " + item;
    column += 1 + item.size();
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out + "\n";
}

std::string worker_lines(const job_status& s) {
  std::string out;
  for (const auto& w : s.worker) {
    char buf[200];
    std::snprintf(buf, sizeof(buf),
                  "    worker %u: clock %llu, %llu samples, step %.2f ms, waited %.1f s%s\n",
                  w.index, static_cast<unsigned long long>(w.clock),
                  static_cast<unsigned long long>(w.samples),
                  w.steps ? 1000 * w.step_seconds_sum / w.steps : 0.0, w.blocked_seconds,
                  w.alive ? "" : " (not running)");
    out += buf;
  }
  return out;
}

} // namespace

int train_command(const job_config& cfg, const cluster_config* cluster) {
  auto opened = console::open(cfg);
  if (!opened) {
    std::cerr << "tether: " << opened.error().message() << "\n";
    return exit_usage;
  }
  auto& out = **opened;
  if (auto st = check_summary_path(cfg.summary_path); !st) {
    out.message(level::error, st.message());
    return exit_usage;
  }
  // The metrics server binds before the data is loaded: a bad address fails at once.
  std::unique_ptr<metrics_server> server;
  if (!cfg.metrics.empty()) {
    std::string token;
    if (!cfg.metrics_token.empty()) {
      auto read = read_metrics_token(cfg.metrics_token);
      if (!read) {
        out.message(level::error, read.error().message());
        return exit_usage;
      }
      token = *read;
    }
    // A port in use is exit code 2, as for a busy --listen: an address named by an
    // option that cannot be used (docs/cli.md, Exit codes).
    auto started = metrics_server::start(cfg.metrics, token);
    if (!started) {
      out.message(level::error, started.error().message());
      return exit_usage;
    }
    server = std::move(started.value());
  } else if (!cfg.metrics_token.empty()) {
    out.message(level::error, "--metrics-token needs --metrics=HOST:PORT");
    return exit_usage;
  }
  std::unique_ptr<metrics_log> points_log;
  if (!cfg.metrics_log.empty()) {
    auto log = metrics_log::open(cfg.metrics_log);
    if (!log) {
      out.message(level::error, log.error().message());
      return exit_usage;
    }
    points_log = std::move(log.value());
  }

  out.progress(banner(cfg));
  out.progress(options_paragraph(cfg));
  if (server)
    out.progress("  metrics on " + server->url() + "metrics, status page on " + server->url()
                 + (cfg.metrics_token.empty() ? "" : "#token=<token>") + "\n");
  install_stop_signals();
  job_status last_status;
  job_hooks hooks;
  hooks.on_message = [&](const std::string& line) { out.message(level::warning, line); };
  hooks.on_info = [&](const std::string& line) { out.progress("  " + line + (line.ends_with("\n") ? "" : "\n")); };
  on_rejection([&](const std::string& what) {
    out.message(level::warning, what);
  });
  hooks.on_point = [&](const progress_point& p, job_control&) {
    out.progress(progress_line(cfg, p));
    if (cfg.verbose)
      out.progress(worker_lines(last_status));
    if (points_log)
      if (auto st = points_log->append(p); !st)
        out.message(level::warning, st.message());
  };
  hooks.on_status = [&](const job_status& s) {
    last_status = s;
    if (server)
      server->publish(s);
    out.status_bar(s);
  };
  hooks.stop_requested = [] { return stop_signal_received(); };
  auto outcome = run_job(cfg, hooks, cluster);
  on_rejection({});
  if (outcome.stopped_waiting) {
    out.message(level::warning, "stopped before enough nodes joined; nothing was trained");
    return exit_interrupted;
  }
  if (outcome.report) {
    out.result_line(closing_lines(cfg, outcome));
    if (!cfg.summary_path.empty()) {
      if (auto st = write_file_atomically(cfg.summary_path, summary_json(cfg, outcome)); !st) {
        out.message(level::error, st.message());
        if (outcome.failure == job_failure::none)
          return exit_usage; // a file named by an option that cannot be written
      }
    }
  }
  if (outcome.failure != job_failure::none) {
    out.message(level::error, outcome.message);
    return exit_code_for(outcome.failure);
  }
  if (outcome.report && outcome.report->stopped_early) {
    out.message(level::warning, "stopped by signal; continue with the same options and --resume");
    return exit_interrupted;
  }
  return exit_ok;
}

} // namespace tether
