// The command line of `tether simulate` (docs/simulator.md):
//
//   tether simulate [--workers=N] [--step-time=MODEL] [--latency=SECONDS]
//                   [--bandwidth=BYTES_PER_S] [--apply-rate=BYTES_PER_S]
//                   <every tether train option>
//
// The simulator's own options are taken out of argv by name; everything else is parsed as
// `tether train` options (same table, same --config file). --workers takes 1 to 100000
// here (train's cap of 256 is for real actors). Numbers are plain decimals (1e-4 works).
// Failures are errc::invalid_argument (exit code 2).
#pragma once

#include "actors/job_config.hpp"
#include "core/status.hpp"
#include "sim/simulation.hpp"

#include <optional>
#include <string>

namespace tether {

constexpr uint32_t simulate_max_workers = 100000;

struct simulate_args {
  bool show_help = false;
  job_config config;     ///< the training options, workers included
  sim_settings settings; ///< base_step_seconds 0: measure it
  bool step_time_given = false;
};

/// argv[0] is "simulate".
result<simulate_args> parse_simulate_args(int argc, const char* const* argv);

std::string simulate_help();

} // namespace tether
