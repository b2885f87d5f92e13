// The parameter shard actor: owns one key range (a shard_core) and serves pulls and
// pushes; holds pushes back while the supervisor takes a consistent cut.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/shard_core.hpp"

#include <deque>
#include <optional>

namespace tether {

struct shard_actor_state {
  static inline const char* name = "tether.shard";

  struct queued_push {
    push_request push;
    caf::typed_response_promise<param_slice> reply;
  };
  struct pending_cut {
    std::vector<uint64_t> target;
    caf::typed_response_promise<shard_state> reply;
  };

  std::optional<shard_core> core;
  bool held = false;
  std::deque<queued_push> queue;
  std::optional<pending_cut> cut;
};

/// Spawn with sys.spawn(shard_behavior, shard_core{...}).
shard_actor::behavior_type shard_behavior(shard_actor::stateful_pointer<shard_actor_state> self,
                                          shard_core core);

} // namespace tether
