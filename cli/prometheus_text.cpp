#include "cli/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tether {

namespace {

/// Appends families and samples in the text format; escaping is its job.
class exposition {
public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {
      if (c == '\\')
        out_ += "\\\\";
      else if (c == '\n')
        out_ += "\\n";
      else
        out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// `labels` is empty or a list made by label(): `worker="0",le="1"`.
  void sample(std::string_view name, std::string_view labels, double value) {
    start(name, labels);
    append_double(value);
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    start(name, labels);
    out_ += std::to_string(value);
    out_ += '\n';
  }

  std::string take() { return std::move(out_); }

private:
  void start(std::string_view name, std::string_view labels) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
  }
  void append_double(double value) {
    if (std::isnan(value)) {
      out_ += "NaN";
    } else if (std::isinf(value)) {
      out_ += value > 0 ? "+Inf" : "-Inf";
    } else {
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general);
      out_.append(buf, res.ptr);
    }
  }
  std::string out_;
};

/// `name="value"`, the value escaped as the format asks (backslash, quote, newline).
std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += '"';
  return out;
}

std::string join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "," + b;
}

std::string bound_text(double bound) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), bound, std::chars_format::general);
  return std::string(buf, res.ptr);
}

/// One histogram's samples: `counts` per bucket (not cumulative), the last one +Inf.
void histogram_samples(exposition& out, const std::string& name, const std::string& labels,
                       const std::vector<std::string>& bounds, const std::vector<uint64_t>& counts,
                       double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    out.sample(name + "_bucket", join(labels, label("le", bounds[i])), cumulative);
  }
  for (size_t i = bounds.size(); i < counts.size(); ++i)
    cumulative += counts[i];
  out.sample(name + "_bucket", join(labels, label("le", "+Inf")), cumulative);
  out.sample(name + "_sum", labels, sum);
  out.sample(name + "_count", labels, cumulative);
}

void gauge_if_finite(exposition& out, const char* name, const char* help, double value) {
  if (!std::isfinite(value))
    return;
  out.family(name, "gauge", help);
  out.sample(name, "", value);
}

void worker_families(exposition& out, const std::vector<worker_status>& workers) {
  out.family("tether_worker_up", "gauge", "1 while the worker actor is alive.");
  for (const auto& w : workers)
    out.sample("tether_worker_up", label("worker", std::to_string(w.index)),
               uint64_t{w.alive ? 1u : 0u});
  out.family("tether_worker_samples_total", "counter",
             "Training samples the worker processed in this run.");
  for (const auto& w : workers)
    out.sample("tether_worker_samples_total", label("worker", std::to_string(w.index)), w.samples);
  out.family("tether_worker_steps_total", "counter", "Batches the worker completed (its clock).");
  for (const auto& w : workers)
    out.sample("tether_worker_steps_total", label("worker", std::to_string(w.index)), w.clock);
  out.family("tether_worker_pull_wait_seconds_total", "counter",
             "Time the worker spent waiting for the shards' answers.");
  for (const auto& w : workers)
    out.sample("tether_worker_pull_wait_seconds_total", label("worker", std::to_string(w.index)),
               w.blocked_seconds);
  out.family("tether_step_seconds", "histogram", "Compute time of one worker step.");
  std::vector<std::string> step_bounds;
  for (double b : step_time_bounds)
    step_bounds.push_back(bound_text(b));
  for (const auto& w : workers)
    histogram_samples(out, "tether_step_seconds", label("worker", std::to_string(w.index)),
                      step_bounds, w.step_buckets, w.step_seconds_sum);
}

void shard_families(exposition& out, const std::vector<shard_status>& shards) {
  out.family("tether_shard_updates_total", "counter",
             "Updates the parameter shard applied (its version).");
  for (const auto& sh : shards)
    out.sample("tether_shard_updates_total", label("shard", std::to_string(sh.index)), sh.version);
  out.family("tether_shard_gradients_total", "counter", "Gradients the parameter shard applied.");
  for (const auto& sh : shards)
    out.sample("tether_shard_gradients_total", label("shard", std::to_string(sh.index)),
               sh.applied);
}

/// Staleness and consistency.
void staleness_families(exposition& out, const job_status& s) {
  out.family("tether_staleness", "histogram",
             "Staleness tau of each applied gradient: updates that landed between its read and "
             "its apply.");
  std::vector<std::string> tau_bounds;
  for (size_t tau = 0; tau < s.staleness_histogram.size(); ++tau)
    tau_bounds.push_back(std::to_string(tau));
  histogram_samples(out, "tether_staleness", "", tau_bounds, s.staleness_histogram, s.tau_sum);
  out.family("tether_clock_lag", "gauge", "Fastest minus slowest live worker clock, in steps.");
  out.sample("tether_clock_lag", "", s.clock_lag);
  out.family("tether_max_clock_gap", "gauge",
             "Largest clock gap, in steps, any shard answer was given at so far.");
  out.sample("tether_max_clock_gap", "", s.max_clock_gap);
}

/// Supervision, checkpoints and nodes.
void supervision_families(exposition& out, const job_status& s) {
  if (!s.restarts.empty())
    out.family("tether_restarts_total", "counter", "Actors restarted by the supervisor, by role.");
  for (const auto& [role, count] : s.restarts)
    out.sample("tether_restarts_total", label("role", role), count);
  out.family("tether_checkpoint_duration_seconds", "summary", "Time taken by checkpoint writes.");
  out.sample("tether_checkpoint_duration_seconds_sum", "", s.checkpoint_seconds_sum);
  out.sample("tether_checkpoint_duration_seconds_count", "", s.checkpoints_written);
  out.family("tether_checkpoint_last_duration_seconds", "gauge",
             "Time taken by the last checkpoint write.");
  out.sample("tether_checkpoint_last_duration_seconds", "", s.checkpoint_seconds_last);
  out.family("tether_checkpoint_last_bytes", "gauge", "Size of the last checkpoint written.");
  out.sample("tether_checkpoint_last_bytes", "", s.checkpoint_bytes_last);
  if (!s.nodes.empty())
    out.family("tether_node_up", "gauge", "1 while the node is up.");
  for (const auto& n : s.nodes)
    out.sample("tether_node_up", label("node", n.name), uint64_t{n.up ? 1u : 0u});
}

} // namespace

std::string prometheus_text(const job_status& s) {
  exposition out;

  out.family("tether_job_info", "gauge",
             "The job: model, dataset, consistency model and state (value always 1).");
  out.sample("tether_job_info",
             label("model", s.model) + "," + label("dataset", s.dataset) + "," +
                 label("consistency", s.consistency) + "," + label("state", s.state),
             uint64_t{1});
  out.family("tether_workers", "gauge", "Worker actors configured.");
  out.sample("tether_workers", "", uint64_t{s.workers});
  out.family("tether_shards", "gauge", "Parameter-shard actors configured.");
  out.sample("tether_shards", "", uint64_t{s.shards});

  // Progress of the whole job.
  out.family("tether_updates_total", "counter", "Updates applied to the whole model.");
  out.sample("tether_updates_total", "", s.updates);
  out.family("tether_samples_total", "counter", "Training samples processed in this run.");
  out.sample("tether_samples_total", "", s.samples);
  out.family("tether_epoch", "gauge", "Updates divided by the updates in one epoch.");
  out.sample("tether_epoch", "", s.epoch);
  out.family("tether_samples_per_second", "gauge",
             "Training samples per second of training time so far.");
  out.sample("tether_samples_per_second", "", s.samples_per_sec);
  out.family("tether_training_seconds_total", "counter",
             "Training time so far, evaluation pauses excluded.");
  out.sample("tether_training_seconds_total", "", s.training_seconds);
  out.family("tether_wall_seconds_total", "counter", "Wall time since the job started.");
  out.sample("tether_wall_seconds_total", "", s.wall_seconds);
  gauge_if_finite(out, "tether_train_loss", "Mean training loss of the last 100 steps.",
                  s.train_loss);
  gauge_if_finite(out, "tether_test_accuracy", "Test-set accuracy (0 to 1) at the last evaluation.",
                  s.test_accuracy);
  gauge_if_finite(out, "tether_test_loss", "Test-set loss at the last evaluation.", s.test_loss);
  if (s.context > 0) { // the language model
    out.family("tether_tokens_per_second", "gauge",
               "Training tokens (bytes predicted) per second of training time so far.");
    out.sample("tether_tokens_per_second", "", s.tokens_per_sec);
    gauge_if_finite(out, "tether_valid_bits_per_byte",
                    "Validation loss in bits per byte at the last evaluation (test_loss is nats).",
                    s.valid_bits_per_byte);
  }

  // A family without samples says nothing: no workers or shards (yet), no family.
  if (!s.worker.empty())
    worker_families(out, s.worker);
  if (!s.shard.empty())
    shard_families(out, s.shard);
  staleness_families(out, s);
  supervision_families(out, s);
  return out.take();
}

} // namespace tether
