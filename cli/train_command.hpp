// `tether train` (and `tether coordinator`): runs one job, prints progress, writes --summary,
// and returns the process exit code (cli/exit_codes.hpp).
#pragma once

#include "actors/job.hpp"
#include "actors/job_config.hpp"

namespace tether {

/// With `cluster`, this process is a cluster's coordinator (`tether coordinator`): the
/// same output, plus the lines about nodes and placement.
int train_command(const job_config& cfg, const cluster_config* cluster = nullptr);

} // namespace tether
