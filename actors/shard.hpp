// The parameter shard actor: owns one key range (a shard_core), serves pulls and pushes,
// defers answers the consistency model does not allow yet (response promises, never
// sleeps), and holds pushes back while the supervisor takes a consistent cut.
//
// Hot standbys: a primary with standbys sends each every change of its state, in order
// (a push taken, a worker leaving or joining), after a full image when the standby is
// new. An answer to a worker leaves only once every standby has acknowledged every change
// made up to the moment the answer became possible: a gradient a worker saw answered is
// in every standby. A standby acknowledges a change on receipt and applies it right after
// (and before it handles anything else), so its optimizer step is not on the worker's
// path. A standby that fails to acknowledge within the timeout is ended (the supervisor
// makes a new one) and answers go on without it meanwhile.
#pragma once

#include "actors/job_plan.hpp"
#include "messages/cluster.hpp"
#include "ps/shard_core.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <variant>

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
    bool allowed = false;      ///< the consistency model allows it (from then on)
    uint64_t needs = 0;        ///< changes the standby must have before it leaves
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

  /// As a standby: changes acknowledged to the primary, not applied yet.
  struct membership {
    uint32_t worker;
    uint64_t clock;
    bool live;
  };
  using change = std::variant<push_request, membership>;
  std::deque<change> backlog;
  uint64_t kept = 0;           ///< changes received as a standby

  struct standby_link {
    caf::actor actor;
    uint64_t acknowledged = 0; ///< changes it is known to have
  };
  std::vector<standby_link> standbys; ///< none: answers wait for nothing
  uint64_t changes = 0;        ///< changes of state made (and sent to the standbys)
  /// Changes every standby is known to have (all of them without standbys).
  uint64_t acknowledged() const;
};

/// How long a standby may take to acknowledge a change before it is given up.
inline constexpr std::chrono::seconds standby_timeout{10};

/// The shard of `spec` under `plan`: its state restored, its live workers at their clocks.
/// Fails only for a state whose sizes do not fit the plan.
result<shard_core> shard_core_for(const job_plan& plan, shard_spec spec);

/// Spawn with sys.spawn(shard_behavior, shard_core{...}).
shard_actor::behavior_type shard_behavior(shard_actor::stateful_pointer<shard_actor_state> self,
                                          shard_core core);

} // namespace tether
