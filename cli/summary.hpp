// The --summary file: one JSON object describing a finished (or stopped) job.
// Every key and its unit is listed in docs/cli.md ("Summary file").
#pragma once

#include "actors/job.hpp"
#include "actors/job_config.hpp"

#include <string>

namespace tether {

/// The linreg extras: relative L2 distance of the learned [w, b] from the closed-form
/// least-squares solution ||learned - ls|| / ||ls||.
double weights_distance(const std::vector<float>& params, const std::vector<double>& least_squares);

/// The summary document (pretty-printed JSON).
std::string summary_json(const job_config& cfg, const job_outcome& outcome);

} // namespace tether
