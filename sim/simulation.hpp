// A training job in virtual time: a discrete-event simulation of W workers and S shards
// that runs the parameter-server logic the actors run (ps/shard_core: clocks, exactly-once,
// staleness, lr/tau, DC-ASGD, bsp rounds, the ssp gate; ps/work_dispatcher: tickets;
// ps/progress_ledger: updates, samples, the evaluation schedule) and real gradients (the
// job's model on its ticket's batch at the parameters the worker was answered), with only
// time being virtual. docs/simulator.md describes what is simulated and what is not.
//
// One step of worker w, as the actor does it (actors/worker.cpp):
//   answers for clock c arrive from every shard -> compute (a step time drawn from the
//   step-time model) -> a push per shard (latency + bytes / bandwidth) -> each shard applies
//   pushes one at a time in arrival order (bytes / apply rate), then holds the worker's
//   request for clock c + 1 until shard_core::may_answer -> the answer travels back
//   (latency + bytes / bandwidth) -> when all shards answered, step c is done: the ledger
//   and the dispatcher hear of it at once (the supervisor's latency is not simulated).
// Events at equal times run in the order they were scheduled, so a run is reproducible
// from its seed. Single-threaded; memory: one parameter vector per worker.
//
// The job's plan (actors/job_plan.hpp) and its report (actors/report.hpp) are plain data
// headers; nothing of CAF is used or linked.
#pragma once

#include "actors/job_plan.hpp"
#include "actors/report.hpp"
#include "messages/types.hpp"
#include "sim/step_time.hpp"

#include <functional>

namespace tether {

struct sim_settings {
  step_time_model step;          ///< how long a step's compute takes
  double base_step_seconds = 0;  ///< the base of the step-time model; > 0
  double latency_seconds = 1e-4; ///< per message, one way
  double bandwidth = 1.25e9;     ///< bytes per second per message (no contention modelled)
  double apply_rate = 4e9;       ///< bytes of gradient a shard applies per second
};

struct sim_result {
  job_report report;          ///< as a real run reports it; times are virtual seconds
  double virtual_seconds = 0; ///< when the last worker finished
  uint64_t steps = 0;         ///< gradients computed
  uint64_t events = 0;        ///< events processed
  uint64_t idle_workers = 0;  ///< workers that never got a ticket
};

struct sim_hooks {
  std::function<void(const progress_point&)> on_point; ///< each evaluation point
  /// Each gradient computed: the worker, its clock and the batch (tests, traces).
  std::function<void(uint32_t worker, uint64_t clock, batch_ticket ticket)> on_step;
};

/// Runs the job of `plan` (fresh start: the model's seeded initial parameters) in virtual
/// time. errc::internal if the shared logic refuses something the simulation did (a bug).
result<sim_result> simulate(const job_plan& plan, const sim_settings& settings,
                            const sim_hooks& hooks = {});

/// The memory a simulation of `plan` holds beyond the job's data and model: one parameter
/// vector per worker, and with DC-ASGD the shards' copy of what each worker read.
uint64_t simulation_bytes(const job_plan& plan);

/// The mean seconds one gradient of plan's model takes on this machine at plan's batch
/// (`steps` measured in this thread's CPU time, after one warm-up): the default base step
/// time.
double measure_step_seconds(const job_plan& plan, int steps = 20);

} // namespace tether
