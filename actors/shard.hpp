// The parameter shard actor: owns one key range (a shard_core), serves pulls and pushes,
// defers answers the consistency model does not allow yet (response promises, never
// sleeps), and holds pushes back while the supervisor takes a consistent cut.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/shard_core.hpp"

#include <deque>
#include <optional>

namespace tether {

struct shard_actor_state {
  static inline const char* name = "tether.shard";

  using reply_promise = caf::typed_response_promise<param_slice>;
  struct queued_push {
    push_request push;
    reply_promise reply;
  };
  /// An answer the consistency model holds back: worker `worker` at clock `clock`.
  struct waiting_answer {
    uint32_t worker;
    uint64_t clock;
    std::vector<float> buffer; ///< memory to answer in (the applied gradient's)
    reply_promise reply;
  };
  struct pending_cut {
    std::vector<uint64_t> target;
    caf::typed_response_promise<shard_state> reply;
  };

  std::optional<shard_core> core;
  bool held = false;
  std::deque<queued_push> queue;  ///< pushes that arrived while held
  std::vector<waiting_answer> waiting;
  std::optional<pending_cut> cut;
};

/// Spawn with sys.spawn(shard_behavior, shard_core{...}).
shard_actor::behavior_type shard_behavior(shard_actor::stateful_pointer<shard_actor_state> self,
                                          shard_core core);

} // namespace tether
