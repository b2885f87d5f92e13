// The supervisor's consistent cut.
//
// Hold every shard (pushes queue), read their applied clocks, ask each for its state at
// the elementwise maximum of those clocks (every gradient a worker sent to one shard is
// then in flight to the others, or will be redone by its replacement), release.
// Evaluation happens while held, so its time is not training time; a checkpoint is
// written after the release, so training does not wait for the disk (only the final cut
// waits for its file).
//
// A best-effort cut (the final cut after failed tries, or when a shard cannot come back)
// asks each shard that answers for its state at its own applied clocks, and takes a shard
// that does not from its restore point (the newest checkpoint): the result may differ from
// a consistent cut by the steps in flight, and the report says which shards were not there.
#pragma once

#include "actors/supervisor_state.hpp"

namespace tether {

struct cut_kind {
  bool evaluate = false;    ///< evaluate on the test set while the shards are held
  bool checkpoint = false;  ///< write the cut as a checkpoint
  bool final = false;       ///< the job's last cut: its point and parameters are the result
  bool best_effort = false; ///< take what each shard holds (see above)
};

/// Holds, cuts and releases every shard, then evaluates and/or checkpoints; calls
/// `then(self, kind.final, ok)` once everything is done or something failed (the shards
/// are released either way).
void take_cut(supervisor_pointer self, cut_kind kind,
              void (*then)(supervisor_pointer, bool final, bool ok));

} // namespace tether
