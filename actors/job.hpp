// Runs one training job in this process: loads the data, builds the model, prepares
// the checkpoint directory (or resumes from it), starts an actor system with the
// supervisor, relays progress to the caller and returns the report.
//
// Thread: call from the main thread; the hooks run on that thread, never on an actor's.
#pragma once

#include "actors/job_config.hpp"
#include "actors/job_status.hpp"
#include "actors/network.hpp"
#include "actors/report.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tether {

/// Why a job did not produce a result; cli/ maps these to exit codes.
enum class job_failure { none, usage, data, checkpoint, runtime, budget, diverged };

/// Lets a caller (a test, later the fault injector) act on the running job.
class job_control {
public:
  virtual ~job_control() = default;
  /// Kills an actor with exit_reason::kill, as a crash would; false if there is none.
  virtual bool kill_worker(uint32_t index) = 0;
  virtual bool kill_shard(uint32_t index) = 0;
};

struct job_hooks {
  std::function<void(const std::string&)> on_message;                 ///< start-up lines, warnings
  std::function<void(const std::string&)> on_info;                    ///< cluster: nodes, placement
  std::function<void(const progress_point&, job_control&)> on_point;  ///< each evaluation
  std::function<bool()> stop_requested;                               ///< polled every 100 ms
  std::function<void(const job_status&)> on_status;                  ///< about once a second
};

struct job_outcome {
  job_failure failure = job_failure::none;
  std::string message;             ///< what failed and what to do, when failure != none
  std::optional<job_report> report;  ///< set once training started (also after a failure)
  std::string resumed_from;        ///< the checkpoint a --resume started from
  std::string model;               ///< the model spec completed from the data
  size_t train_samples = 0, test_samples = 0;
  size_t context = 0; ///< the LM: bytes predicted per sample (tokens = samples x context); else 0
  std::vector<double> least_squares; ///< linreg: the closed-form [w, b]
  bool stopped_waiting = false;    ///< cluster: stopped before enough nodes joined
};

/// The coordinator's side of a cluster job: where it listens, how many nodes it waits
/// for before training starts, and the network settings (actors/network.hpp).
struct cluster_config {
  host_port listen;
  uint32_t min_nodes = 1;
  network_options net;
  std::chrono::milliseconds place_timeout{10000};
};

/// Runs the job; with `cluster`, this process is the coordinator: it publishes the
/// registrar (actors/registrar.hpp), waits for cluster->min_nodes nodes, and the
/// supervisor places shards and workers on them. The caller has checked
/// cluster->net with check_network().
job_outcome run_job(const job_config& cfg, const job_hooks& hooks,
                    const cluster_config* cluster = nullptr);

} // namespace tether
