// The supervisor's consistent cut (see actors/supervisor.hpp for the protocol).
#pragma once

#include "actors/supervisor.hpp"

namespace tether {

struct cut_kind {
  bool evaluate = false;   ///< evaluate on the test set while the shards are held
  bool checkpoint = false; ///< write the cut as a checkpoint
  bool final = false;      ///< the job's last cut: its point and parameters are the result
};

/// Holds, cuts and releases every shard, then evaluates and/or checkpoints; calls
/// `then(self, kind.final, ok)` once everything is done or something failed (the
/// shards are released either way).
void take_cut(caf::stateful_actor<supervisor_state>* self, cut_kind kind,
              void (*then)(caf::stateful_actor<supervisor_state>*, bool final, bool ok));

} // namespace tether
