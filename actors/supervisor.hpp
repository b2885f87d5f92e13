// The supervisor: owns the job. Starts the shards (with their hot standbys), the workers
// and the checkpointer, here or on a cluster's nodes; monitors them and restarts what
// fails (one-for-one, within a restart budget per group); hands out the batches (the work
// dispatcher); counts progress (the progress ledger); takes consistent cuts for
// evaluations and checkpoints; grows and shrinks the job as nodes come and go; and tells
// the job runner about progress and the end.
//
//   training --every worker done, or stop--> finishing --> final cut (evaluation and the
//   final checkpoint) --> finished (report sent to the runner, every child stopped)
//
// Files: supervisor.cpp (behaviour, progress, the end), supervisor_steps.cpp (the steps
// the files share: starting workers, shard specs, restore points, the restart budget),
// supervisor_failures.cpp (one handler per kind of failure), supervisor_nodes.cpp
// (placement), supervisor_elastic.cpp (nodes joining, draining, growing and shrinking),
// replicas.cpp (standbys), cut.cpp (cuts), publish.cpp (status), fault_injector.cpp
// (--faults).
#pragma once

#include "actors/supervisor_state.hpp"

namespace tether {

supervisor_actor::behavior_type supervisor_behavior(supervisor_pointer self, supervisor_args args);

} // namespace tether
