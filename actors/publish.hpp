// The supervisor's status snapshots (actors/job_status.hpp): about once a second it asks
// every shard for its statistics and sends the runner a job_status. Every figure comes
// from the progress ledger (ps/progress_ledger.hpp), the one place they are computed.
#pragma once

#include "actors/supervisor_state.hpp"

namespace tether {

/// Fills the parts of state.status that never change during the job.
void init_status(supervisor_pointer self);

/// Asks the shards for their statistics, then sends (status_atom, job_status) to the
/// runner. Does nothing while the previous round is still under way.
void publish_status(supervisor_pointer self);

/// A snapshot from what the supervisor knows now (shard figures as last asked), sent at
/// once: the runner gets it just before an evaluation point.
void publish_quick_status(supervisor_pointer self);

/// The last snapshot, state "finished", from what the final cut found.
void publish_final_status(supervisor_pointer self);

} // namespace tether
