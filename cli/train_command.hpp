// `tether train`: runs one job in this process, prints progress, writes --summary,
// and returns the process exit code (cli/exit_codes.hpp).
#pragma once

#include "actors/job_config.hpp"

namespace tether {

int train_command(const job_config& cfg);

} // namespace tether
