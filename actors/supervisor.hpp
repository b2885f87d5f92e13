// The supervisor: owns the job. Spawns the shards, the workers and the checkpointer,
// monitors them and restarts what fails (one-for-one, within a restart budget), counts
// updates, takes consistent cuts for evaluation and checkpoints, and tells the job
// runner about progress and the end.
//
//   training --all workers done, or stop--> finishing (final cut: evaluation and the
//   final checkpoint) --> finished (report sent to the runner, every child stopped)
//
// A cut: hold every shard (pushes queue), read their applied clocks, ask each for its
// state at the elementwise maximum of those clocks (every gradient a worker sent to
// one shard is then in all of them), release. Evaluation happens while held, so its
// time is not training time; the checkpoint is written after the release.
#pragma once

#include "actors/cluster_types.hpp"
#include "actors/interfaces.hpp"
#include "actors/job_config.hpp"
#include "actors/job_status.hpp"
#include "actors/report.hpp"
#include "core/dataset.hpp"
#include "core/model.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <vector>

namespace tether {

struct supervisor_args {
  job_config cfg;
  std::shared_ptr<const model> net;
  train_test data;
  std::vector<key_range> ranges;
  std::vector<shard_state> initial_shards; ///< per shard: fresh or from the resumed checkpoint
  std::vector<uint64_t> worker_start;      ///< per worker: batches already done
  uint64_t total_steps = 0;                ///< batches per worker in the whole job
  uint64_t steps_per_epoch = 0;            ///< batches per worker per epoch
  uint64_t updates_per_epoch = 0;          ///< bsp: steps_per_epoch; else x workers
  std::chrono::steady_clock::time_point job_start;
  caf::actor runner;                       ///< gets (point_atom, progress_point) and
                                           ///< (finished_atom, job_report)
  /// A cluster's registrar (actors/registrar.hpp): shards and workers are then placed on
  /// its nodes (actors/placement.hpp) instead of in this process. Empty: one process.
  caf::actor registrar;
  std::chrono::milliseconds place_timeout{10000}; ///< a node's answer to a placement
  std::vector<caf::actor> node_agents;     ///< the nodes in at the start (registrar's order)
  std::vector<node_hello> node_hellos;
};

/// A node of the cluster, as the supervisor sees it.
struct cluster_node {
  caf::actor agent;
  node_hello hello;
  bool alive = true;
  bool draining = false;
  uint32_t shards = 0, workers = 0;   ///< actors of the job running there now
};

struct supervisor_state {
  static inline const char* name = "tether.supervisor";
  using clock = std::chrono::steady_clock;

  supervisor_args args;
  std::vector<shard_actor> shards;
  std::vector<shard_actor> standbys; ///< per shard: its hot standby (none: invalid handle)
  uint32_t replicas = 0;             ///< standbys wanted per shard (0 or 1)
  std::set<size_t> standby_moving;   ///< standbys ended by a drain, made again elsewhere
  std::vector<caf::actor> workers;
  checkpointer_actor checkpointer;

  std::vector<uint64_t> clocks;      ///< per worker: batches completed (reported)
  std::vector<uint64_t> acked;       ///< per worker: steps it was answered for in this run
                                     ///< (each report of a new clock; the loss audit)
  std::vector<double> blocked;       ///< per worker: seconds spent waiting (reported)
  std::vector<bool> done;
  std::deque<float> recent_losses;   ///< the last 100 steps' losses
  uint64_t next_eval = 0, next_checkpoint = 0;

  bool cutting = false, want_eval = false, want_checkpoint = false;
  bool finishing = false, final_cut_done = false, stop_children = false;
  int final_cut_failures = 0;

  clock::time_point training_start, training_end;
  bool training_ended = false;
  clock::duration paused{0};

  std::map<std::string, std::deque<clock::time_point>> restart_times; ///< per group
  job_report report;
  job_status status;                 ///< published to the runner every second
  bool publishing = false;           ///< a stats round to the shards is under way

  std::vector<cluster_node> nodes;   ///< in join order; empty in one process
  struct placement {
    size_t node;
    bool shard;
  };
  std::map<caf::actor_addr, placement> placed_on; ///< a remote actor -> its node
  std::set<uint32_t> moving;         ///< workers killed by a drain, respawned elsewhere
  std::map<uint32_t, size_t> worker_home; ///< a crashed worker's node: its replacement goes there
  size_t shard_moves = 0;            ///< shards being moved off a draining node (no cut meanwhile)
  /// A failure whose recovery is not yet seen: the first progress report after the
  /// restart (from worker `worker`, or from any worker for a shard: -1) ends it.
  struct recovery {
    clock::time_point failed_at;
    int worker;
    std::string what;   ///< "worker 3", "shard 1"
    /// shard: every worker's clock at the failure; a report must be 2 steps past it (the
    /// step in flight may have been answered by the old shard)
    std::vector<uint64_t> clocks;
  };
  std::vector<recovery> recovering;
  bool rebalance_pending = false;    ///< a node joined mid-run: move workers to it at the next epoch
  uint64_t epoch_seen = 0;           ///< the epoch (of updates) the last progress report was in
  std::vector<bool> fault_fired;     ///< --faults: per timed fault, whether it fired
  std::vector<size_t> flip_pending;  ///< "flip checkpoint" faults waiting for the next file
};

/// Updates applied to the whole model, from the workers' clocks: one per gradient, or
/// under bsp one per clock (the averaged gradient of that clock).
uint64_t updates_of(const job_config& cfg, const std::vector<uint64_t>& clocks);

caf::behavior supervisor_behavior(caf::stateful_actor<supervisor_state>* self,
                                  supervisor_args args);

} // namespace tether

// Local-only messages to the job runner: never cross a process boundary.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tether::progress_point)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tether::job_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tether::job_status)
