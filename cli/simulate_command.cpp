#include "cli/simulate_command.hpp"

#include "actors/job_setup.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json.hpp"
#include "cli/progress.hpp"
#include "cli/simulate_options.hpp"
#include "cli/summary.hpp"
#include "core/memory_limit.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace tether {

namespace {

int fail(int code, const std::string& message) {
  std::cerr << "tether: " << message << "\n";
  return code;
}

int exit_for(job_failure f) {
  return f == job_failure::data    ? exit_bad_data
         : f == job_failure::usage ? exit_usage
                                   : exit_failure;
}

/// The summary is written at the end: a missing directory would lose the run's result.
std::string summary_path_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto dir = fs::path(path).parent_path();
  if (path.empty())
    return "";
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return "--summary=" + path + ": directory \"" + dir.string() + "\" does not exist";
  if (fs::is_directory(path, ec))
    return "--summary=" + path + " is a directory; give a file name";
  return "";
}

/// The plan of the job. Under async and ssp a simulated job may have more workers than
/// batches (workers take batches as they become free; some take none), so the plan is
/// made for as many workers as there are batches and then given them all.
std::variant<std::shared_ptr<const job_plan>, setup_error> plan_simulation(const job_config& cfg) {
  auto data = load_job_data(cfg);
  if (auto* e = std::get_if<setup_error>(&data))
    return *e;
  auto& tt = std::get<train_test>(data);
  job_config planned = cfg;
  bool lockstep = cfg.consistency.model == consistency_model::bsp;
  uint64_t batches = tt.train->count / std::max<uint32_t>(1, cfg.batch);
  if (!lockstep && batches >= 1)
    planned.workers = static_cast<uint32_t>(std::min<uint64_t>(cfg.workers, batches));
  auto plan = plan_job(planned, tt, 1);
  if (auto* e = std::get_if<setup_error>(&plan))
    return *e;
  auto whole = std::make_shared<job_plan>(*std::get<std::shared_ptr<const job_plan>>(plan));
  whole->cfg.workers = cfg.workers;
  return std::shared_ptr<const job_plan>(std::move(whole));
}

void write_simulation(json_writer& w, const sim_settings& s, const sim_result& r,
                      double real_seconds) {
  w.key("virtual_seconds").number(r.virtual_seconds);
  w.key("simulation").begin_object();
  w.key("step_time").string(s.step.to_string());
  w.key("base_step_seconds").number(s.base_step_seconds);
  w.key("latency_seconds").number(s.latency_seconds);
  w.key("bandwidth").number(s.bandwidth);
  w.key("apply_rate").number(s.apply_rate);
  w.key("steps").unsigned_integer(r.steps);
  w.key("events").unsigned_integer(r.events);
  w.key("idle_workers").unsigned_integer(r.idle_workers);
  w.key("real_seconds").number(real_seconds);
  w.end_object();
}

} // namespace

int simulate_command(int argc, const char* const* argv) {
  auto args = parse_simulate_args(argc, argv);
  if (!args)
    return fail(exit_usage, args.error().message());
  if (args->show_help) {
    std::cout << simulate_help();
    return exit_ok;
  }
  const auto& cfg = args->config;
  if (auto why = summary_path_problem(cfg.summary_path); !why.empty())
    return fail(exit_usage, why);
  auto started = std::chrono::steady_clock::now();
  auto planned = plan_simulation(cfg);
  if (auto* e = std::get_if<setup_error>(&planned))
    return fail(exit_for(e->kind), e->message);
  auto plan = std::get<std::shared_ptr<const job_plan>>(planned);
  auto need = simulation_bytes(*plan);
  auto ceiling = process_memory_ceiling();
  if (need > ceiling.bytes / 2)
    return fail(exit_usage, "--workers=" + std::to_string(cfg.workers) + " with model " +
                                plan->net->spec().to_string() + " needs " + format_bytes(need) +
                                " for the simulated workers' copies of the parameters, more "
                                "than half of what this process may use (" +
                                format_bytes(ceiling.bytes) + ", " + ceiling.source +
                                "); simulate fewer workers or a smaller model (--model=softmax)");
  auto settings = args->settings;
  settings.base_step_seconds =
      settings.step.kind == step_time_kind::constant && settings.step.seconds > 0
          ? settings.step.seconds
          : measure_step_seconds(*plan);
  if (settings.step.kind == step_time_kind::constant)
    settings.step.seconds = settings.base_step_seconds; // shown and summarised as run
  if (!cfg.quiet)
    std::cout << "tether simulate: " << cfg.workers << " workers, " << cfg.shards << " shards, "
              << to_string(cfg.consistency.model) << ", model " << plan->net->spec().to_string()
              << ", batch " << cfg.batch << ", step time " << settings.step.to_string() << " (base "
              << settings.base_step_seconds << " s)\n";
  sim_hooks hooks;
  if (!cfg.quiet)
    hooks.on_point = [&](const progress_point& p) {
      std::cout << progress_line(cfg, p) << std::flush;
    };
  auto result = simulate(*plan, settings, hooks);
  if (!result)
    return fail(exit_failure, result.error().message());
  double real = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  job_outcome outcome;
  outcome.report = result->report;
  outcome.model = plan->net->spec().to_string();
  outcome.train_samples = plan->data.train->count;
  outcome.test_samples = plan->data.test ? plan->data.test->count : 0;
  if (result->report.diverged) {
    outcome.failure = job_failure::diverged;
    outcome.message = result->report.failure;
  }
  if (!cfg.summary_path.empty()) {
    auto text = summary_json(cfg, outcome,
                             [&](json_writer& w) { write_simulation(w, settings, *result, real); });
    if (auto st = write_file_atomically(cfg.summary_path, text); !st)
      return fail(exit_failure, "--summary: " + st.message());
  }
  if (result->report.diverged)
    return fail(exit_diverged, result->report.failure);
  if (!cfg.quiet) {
    char line[256];
    std::snprintf(line, sizeof(line),
                  "simulated %llu steps of %u workers: %.3f virtual seconds in %.2f s; "
                  "test_accuracy %.4f, max_clock_gap %llu\n",
                  static_cast<unsigned long long>(result->steps), cfg.workers,
                  result->virtual_seconds, real, result->report.final_point.test_accuracy,
                  static_cast<unsigned long long>(result->report.final_point.max_clock_gap));
    std::cout << line;
  }
  return exit_ok;
}

} // namespace tether
