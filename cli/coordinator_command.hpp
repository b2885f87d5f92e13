// `tether coordinator`: runs a training job across the nodes that join it (cluster
// options in cli/cluster_options.hpp, the rest as `tether train`). Returns the process
// exit code (cli/exit_codes.hpp).
#pragma once

namespace tether {

/// argv[0] is "coordinator".
int coordinator_command(int argc, const char* const* argv);

} // namespace tether
