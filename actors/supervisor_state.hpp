// The supervisor's state: one record per worker slot, shard (with its standbys) and node,
// the job's phase, and the CAF-free parts that hold the job's arithmetic (the progress
// ledger), its data order (the work dispatcher) and its restart budgets. Shared by the
// files of the supervisor (supervisor*.cpp, cut.cpp, replicas.cpp, publish.cpp,
// fault_injector.cpp); nothing else includes it.
#pragma once

#include "actors/job_plan.hpp"
#include "actors/job_status.hpp"
#include "actors/report.hpp"
#include "messages/cluster.hpp"
#include "ps/progress_ledger.hpp"
#include "ps/restart_budget.hpp"
#include "ps/work_dispatcher.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether {

struct supervisor_args {
  std::shared_ptr<const job_plan> plan;
  std::vector<shard_state> initial_shards; ///< per shard: fresh or from the resumed checkpoint
  std::vector<uint64_t> worker_start;      ///< per starting slot: its clock
  uint64_t start_updates = 0;              ///< updates applied before this run (resume)
  work_position work;                      ///< where the data order goes on from
  std::chrono::steady_clock::time_point job_start;
  caf::actor runner;                       ///< gets points, status, info lines, the report
  /// A cluster's registrar (actors/registrar.hpp): shards and workers are then placed on
  /// its nodes (actors/placement.hpp) instead of in this process. Empty: one process.
  caf::actor registrar;
  std::chrono::milliseconds place_timeout{10000}; ///< a node's answer to a placement
  std::vector<caf::actor> node_agents;     ///< the nodes in at the start (registrar's order)
  std::vector<node_hello> node_hellos;
};

/// training --every worker done, or a stop--> finishing (workers end their step; a stop
/// has a grace period) --> final_cut (evaluation, the final checkpoint) --> finished.
enum class job_phase { training, finishing, final_cut, finished };

struct worker_record {
  enum class life { idle, placing, running, done };
  worker_actor actor;          ///< invalid unless running
  life state = life::idle;
  int node = -1;               ///< the node it runs on (cluster)
  int home = -1;               ///< a crashed worker's node: its replacement goes back there
  bool moving = false;         ///< ended on purpose (drain, rebalance): restarted, no budget spent
  bool retiring = false;       ///< the job shrinks: it ends after its batches
  uint64_t granted_until = 0;  ///< clocks below this have been granted to it
  bool told_last = false;      ///< it knows no more batches will come
};

struct standby_record {
  shard_actor actor;
  int node = -1;
  bool moving = false;         ///< ended by a drain: made again elsewhere, no budget spent
};

struct shard_record {
  shard_actor primary;         ///< invalid while a new one is being placed
  int node = -1;
  bool placing = false;
  bool moving = false;         ///< being moved off a draining node
  std::vector<standby_record> standbys;
  size_t standbys_placing = 0;
};

struct node_record {
  caf::actor agent;
  node_hello hello;
  bool alive = true;
  bool draining = false;
  uint32_t shards = 0;         ///< primaries and standbys placed there now
  uint32_t workers = 0;
  /// Placements asked of it and not answered yet: each fails at once when the node is
  /// lost (a request to a dead node would only end at its timeout).
  std::map<uint64_t, std::function<void()>> pending;
};

/// What a monitored actor is to the supervisor.
struct actor_role {
  enum class kind { worker, primary, standby, checkpointer };
  kind what;
  size_t index = 0;            ///< worker slot or shard index
};

/// A failure whose recovery is not yet seen: the first progress report after it (from
/// worker `worker`, or from any worker 2 steps past its clock at the failure for a shard:
/// the step in flight may have been answered by the old shard) ends it.
struct recovery {
  std::chrono::steady_clock::time_point failed_at;
  int worker = -1;
  std::string what;            ///< "worker 3", "shard 1"
  std::vector<uint64_t> clocks;
};

struct supervisor_state {
  static inline const char* name = "tether.supervisor";
  using clock = std::chrono::steady_clock;

  supervisor_args args;
  std::shared_ptr<const job_plan> plan;
  std::optional<progress_ledger> ledger;
  std::optional<work_dispatcher> dispatcher;
  std::optional<restart_budget> budget;
  uint32_t replicas = 0;        ///< standbys wanted per shard

  std::vector<worker_record> workers;  ///< by slot
  std::vector<shard_record> shards;
  checkpointer_actor checkpointer;
  std::vector<node_record> nodes;      ///< in join order; empty in one process
  std::map<caf::actor_addr, actor_role> roles; ///< every actor it monitors

  job_phase phase = job_phase::training;
  bool started = false;         ///< every primary placed: training runs
  bool placement_told = false;  ///< the operator has seen where the start put everything
  uint64_t next_placement = 1;  ///< ids of node_record::pending entries
  uint64_t stop_generation = 0; ///< a stop's grace timer
  bool grace_over = false;

  // cuts
  bool cutting = false, want_eval = false, want_checkpoint = false;
  int final_cut_failures = 0;
  /// Workers asking for the shard list while a shard is being replaced.
  std::vector<caf::typed_response_promise<std::vector<shard_actor>>> shard_list_waiting;

  std::vector<recovery> recovering;
  bool rebalance_pending = false;  ///< a node joined at full size: move workers at the next epoch
  uint64_t epoch_seen = 0;

  std::vector<bool> fault_fired;   ///< --faults: per timed fault, whether it fired
  std::vector<size_t> flip_pending;

  job_report report;
  job_status status;               ///< published to the runner every second
  bool publishing = false;

  clock::time_point now() const { return clock::now(); }
  progress_ledger& progress() { return *ledger; }
  const progress_ledger& progress() const { return *ledger; }
  work_dispatcher& work() { return *dispatcher; }
  /// The current primaries, in shard order (invalid where one is being placed).
  std::vector<shard_actor> primaries() const;
  /// No primary is being placed or moved.
  bool shards_ready() const;
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

} // namespace tether

// Local-only messages to the job runner: never cross a process boundary.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tether::progress_point)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tether::job_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tether::job_status)
