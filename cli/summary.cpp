#include "cli/summary.hpp"

#include "cli/json.hpp"
#include "cli/status_json.hpp"

#include <cmath>

namespace tether {

double weights_distance(const std::vector<float>& params, const std::vector<double>& ls) {
  // The linear model's layout is layer0.weight {1, features} then layer0.bias {1}:
  // the same order as least_squares' [w, b].
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ls.size() && i < params.size(); ++i) {
    diff += (params[i] - ls[i]) * (params[i] - ls[i]);
    norm += ls[i] * ls[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

const char* outcome_name(const job_outcome& outcome) {
  switch (outcome.failure) {
    case job_failure::none: return outcome.report && outcome.report->stopped_early ? "stopped" : "finished";
    case job_failure::usage: return "usage";
    case job_failure::data: return "data";
    case job_failure::checkpoint: return "checkpoint_failed";
    case job_failure::runtime: return "failed";
    case job_failure::budget: return "restart_budget_spent";
    case job_failure::diverged: return "diverged";
  }
  return "failed";
}

std::string summary_json(const job_config& cfg, const job_outcome& outcome,
                         const std::function<void(json_writer&)>& extra) {
  const auto& r = *outcome.report;
  const auto& f = r.final_point;
  bool regression = cfg.dataset == dataset_kind::linreg;
  json_writer w(2);
  w.begin_object();
  if (regression) {
    w.key("test_accuracy").null();
    w.key("test_mse").number(f.test_mse);
    w.key("weights_distance").number(weights_distance(r.final_params, outcome.least_squares));
  } else {
    w.key("test_accuracy").number(f.test_accuracy);
  }
  w.key("test_loss").number(f.test_loss);
  if (f.text) {
    // The LM: nats and bits per byte on the fixed validation sample (core/gpt_model.hpp:
    // gpt_eval_windows), training tokens per training second.
    w.key("valid_loss").number(f.test_loss);
    w.key("valid_bits_per_byte").number(f.valid_bits_per_byte);
    w.key("tokens_per_sec").number(r.training_seconds > 0 ? r.samples * outcome.context / r.training_seconds : 0);
    w.key("context").unsigned_integer(outcome.context);
  }
  w.key("test_samples").unsigned_integer(outcome.test_samples);
  w.key("final_train_loss").number(r.final_train_loss);
  w.key("samples_per_sec").number(r.training_seconds > 0 ? r.samples / r.training_seconds : 0);
  w.key("training_seconds").number(r.training_seconds);
  w.key("wall_seconds").number(r.wall_seconds);
  w.key("updates_applied").unsigned_integer(r.updates);
  w.key("samples").unsigned_integer(r.samples);
  w.key("mean_staleness").number(f.mean_staleness);
  w.key("max_staleness").unsigned_integer(f.max_staleness);
  w.key("restarts").begin_object();
  for (const auto& [role, count] : r.restarts)
    w.key(role).unsigned_integer(count);
  w.end_object();
  w.key("failovers").begin_object();
  for (const auto& [role, count] : r.failovers)
    w.key(role).unsigned_integer(count);
  w.end_object();
  w.key("shard_replicas").unsigned_integer(r.shard_replicas);
  // Gradients workers were answered for that the final parameters lack (the audit at
  // the final cut); without standbys a shard restored from a checkpoint loses those
  // since it, at most --checkpoint-every updates.
  w.key("updates_lost").unsigned_integer(r.updates_lost);
  w.key("updates_lost_by_shard").begin_array();
  for (auto lost : r.updates_lost_by_shard)
    w.unsigned_integer(lost);
  w.end_array();
  w.key("faults_injected").begin_array();
  for (const auto& line : r.faults_injected)
    w.string(line);
  w.end_array();
  w.key("recovery_seconds").begin_array();
  for (double seconds : r.recovery_seconds)
    w.number(seconds);
  w.end_array();
  w.key("nodes").begin_array();
  for (const auto& name : r.nodes)
    w.string(name);
  w.end_array();
  w.key("moves").begin_object();
  for (const auto& [role, count] : r.moves)
    w.key(role).unsigned_integer(count);
  w.end_object();
  w.key("workers").unsigned_integer(cfg.workers);
  w.key("shards").unsigned_integer(cfg.shards);
  w.key("consistency").string(to_string(cfg.consistency.model));
  if (cfg.consistency.model == consistency_model::ssp)
    w.key("staleness_bound").unsigned_integer(cfg.consistency.staleness);
  else if (cfg.consistency.model == consistency_model::bsp)
    w.key("staleness_bound").unsigned_integer(0);
  else
    w.key("staleness_bound").null();
  w.key("staleness_lr").string(to_string(cfg.consistency.lr_rule));
  w.key("dc_lambda").number(cfg.consistency.dc_lambda);
  w.key("max_clock_gap").unsigned_integer(f.max_clock_gap);
  w.key("clock_lag_max").unsigned_integer(r.clock_lag_max);
  w.key("blocked_seconds").number(r.blocked_seconds);
  w.key("stragglers").begin_array();
  for (const auto& s : cfg.stragglers) {
    w.begin_object();
    w.key("worker").unsigned_integer(s.worker);
    w.key("factor").number(s.factor);
    w.end_object();
  }
  w.end_array();
  w.key("step_jitter").number(cfg.step_jitter);
  w.key("staleness_histogram").begin_object();
  for (size_t tau = 0; tau < r.staleness_histogram.size(); ++tau)
    if (r.staleness_histogram[tau] > 0)
      w.key(std::to_string(tau)).unsigned_integer(r.staleness_histogram[tau]);
  w.end_object();
  w.key("epochs").unsigned_integer(cfg.epochs);
  w.key("batch").unsigned_integer(cfg.batch);
  w.key("model").string(outcome.model);
  w.key("optimizer").string(to_string(cfg.optimizer.kind));
  w.key("lr").number(cfg.optimizer.lr);
  w.key("dataset").string(to_string(cfg.dataset));
  w.key("train_samples").unsigned_integer(outcome.train_samples);
  w.key("seed").unsigned_integer(cfg.seed);
  w.key("checkpoint").string(r.checkpoint_path);
  w.key("newest_checkpoint").string(r.newest_checkpoint);
  w.key("newest_checkpoint_updates").unsigned_integer(r.newest_checkpoint_updates);
  w.key("shards_from_restore_point").begin_array();
  for (auto j : r.shards_from_restore_point)
    w.unsigned_integer(j);
  w.end_array();
  w.key("resumed_from").string(outcome.resumed_from);
  w.key("stopped_early").boolean(r.stopped_early);
  w.key("outcome").string(outcome_name(outcome));
  w.key("failure").string(outcome.failure == job_failure::none ? std::string{} : outcome.message);
  if (extra)
    extra(w);
  w.key("curve").begin_array();
  for (const auto& p : r.curve)
    write_progress_point(w, p, regression);
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

} // namespace tether
