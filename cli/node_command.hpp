// `tether node`: joins a coordinator and runs what it places here until the job ends.
// Returns the process exit code (cli/cluster_options.hpp node_help() lists them).
#pragma once

namespace tether {

/// argv[0] is "node".
int node_command(int argc, const char* const* argv);

} // namespace tether
