// The --summary file: one JSON object describing a finished (or stopped) job.
// Every key and its unit is listed in docs/cli.md ("Summary file").
#pragma once

#include "actors/job.hpp"
#include "actors/job_config.hpp"

#include <functional>
#include <string>

namespace tether {

/// The linreg extras: relative L2 distance of the learned [w, b] from the closed-form
/// least-squares solution ||learned - ls|| / ||ls||.
double weights_distance(const std::vector<float>& params, const std::vector<double>& least_squares);

/// How the job ended, as the summary's "outcome" says: finished, stopped, diverged,
/// restart_budget_spent, checkpoint_failed, failed (or usage, data before training).
const char* outcome_name(const job_outcome& outcome);

class json_writer;

/// The summary document (pretty-printed JSON). Written for every job that started
/// training, also one that failed: "outcome" and "failure" say how it ended. `extra`,
/// when given, adds keys of its own before "curve" (`tether simulate`'s virtual time).
std::string summary_json(const job_config& cfg, const job_outcome& outcome,
                         const std::function<void(json_writer&)>& extra = {});

} // namespace tether
