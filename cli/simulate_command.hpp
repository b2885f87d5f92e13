// `tether simulate`: a training job in virtual time (sim/simulation.hpp), with the
// progress lines and the --summary file of `tether train` (docs/simulator.md).
#pragma once

namespace tether {

/// argv[0] is "simulate". Returns the exit code (cli/exit_codes.hpp).
int simulate_command(int argc, const char* const* argv);

} // namespace tether
