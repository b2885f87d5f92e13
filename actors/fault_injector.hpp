// The supervisor's side of --faults: fires the plan's timed faults (core/fault_plan.hpp)
// at their step or time. Message faults and stragglers travel with the workers
// (actors/message_faults.hpp).
//
//   kill worker|shard|standby I   the actor is ended with exit_reason::kill (a crash)
//   exit node I                   its node agent ends its own process with SIGKILL
//   stop node I for D             its node agent arranges a SIGCONT after D, then SIGSTOPs
//                                 its own process
//   flip checkpoint               one byte of the next checkpoint file written is changed
//
// A fault whose target does not exist (no such node in one process, a standby that is
// not there) is logged as skipped. Every fault fired is written to the report.
#pragma once

#include "actors/supervisor_state.hpp"

#include <string>

namespace tether {

/// Starts the timers of the time-triggered faults; call once, when training starts.
void arm_faults(supervisor_pointer self);

/// Fires the step-triggered faults due at `updates` updates.
void faults_at_step(supervisor_pointer self, uint64_t updates);

/// Fires timed fault `index` (its timer ran out), unless it already fired.
void fire_fault(supervisor_pointer self, size_t index);

/// A checkpoint was written to `path`: a pending "flip checkpoint" corrupts it now.
void faults_after_checkpoint(supervisor_pointer self, const std::string& path);

/// Changes one byte of `path` past its first `skip` bytes (chosen by `seed`); false when
/// the file cannot be opened or is too short.
bool flip_file_byte(const std::string& path, uint64_t seed, size_t skip = 16);

} // namespace tether
