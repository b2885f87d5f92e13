#include "cli/progress.hpp"

#include "cli/summary.hpp"

#include <cstdio>

namespace tether {

namespace {

std::string format(const char* fmt, auto... xs) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), fmt, xs...);
  return buf;
}

/// 98123.4 -> "98,123"
std::string thousands(double value) {
  auto digits = std::to_string(static_cast<long long>(value + 0.5));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

/// "async", "ssp (S=3)", "bsp", with the staleness handling when it is on.
std::string consistency_text(const job_config& cfg) {
  const auto& c = cfg.consistency;
  std::string out = to_string(c.model);
  if (c.model == consistency_model::ssp)
    out += " (S=" + std::to_string(c.staleness) + ")";
  if (c.model != consistency_model::bsp && c.lr_rule == staleness_lr::inverse)
    out += ", lr/tau";
  if (c.model != consistency_model::bsp && c.dc_lambda > 0)
    out += format(", DC-ASGD lambda %g", static_cast<double>(c.dc_lambda));
  return out;
}

} // namespace

std::string printable(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '"' || c == '\\')
      out += std::string("\\") + static_cast<char>(c);
    else if (c < 0x20 || c >= 0x7f)
      out += format("\\x%02x", c);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string banner(const job_config& cfg) {
  std::string data = cfg.dataset == dataset_kind::linreg ? "synthetic linear regression"
                     : cfg.dataset == dataset_kind::text
                       ? (cfg.train_path.empty() ? std::string("text (the fortunes corpus)")
                                                 : "text (" + cfg.train_path + ")")
                     : cfg.dataset == dataset_kind::idx  ? "IDX files in " + cfg.data_dir
                     : cfg.dataset == dataset_kind::csv  ? "CSV (" + cfg.train_path + ")"
                                                         : std::string("Fashion-MNIST");
  std::string out = format("tether train: %s, model %s\n", data.c_str(), cfg.model.c_str());
  std::string length = cfg.steps > 0 ? std::to_string(cfg.steps) + " updates"
                       : std::to_string(cfg.epochs) + (cfg.epochs == 1 ? " epoch" : " epochs");
  out += format("  %u workers, %u shards, %s, optimizer %s lr %g, batch %u per worker, %s, "
                "seed %llu\n",
                cfg.workers, cfg.shards, consistency_text(cfg).c_str(), to_string(cfg.optimizer.kind),
                static_cast<double>(cfg.optimizer.lr), cfg.batch, length.c_str(),
                static_cast<unsigned long long>(cfg.seed));
  out += "  checkpoints in " + cfg.checkpoint_dir
         + (cfg.checkpoint_every ? " every " + std::to_string(cfg.checkpoint_every) + " updates"
                                 : std::string(" (final only)"))
         + (cfg.resume ? ", resuming" : "") + "\n";
  return out;
}

/// The LM's line: step, tokens/s, training loss, validation nats and bits per byte,
/// staleness; then the sample generated at this point, quoted on one line.
std::string text_progress_line(const progress_point& p) {
  auto line = format("step %6llu  tokens/s %8s  loss %.4f  valid %.4f nats/byte %.4f bits/byte  "
                     "staleness mean %.2f max %llu  [%.1fs]\n",
                     static_cast<unsigned long long>(p.updates), thousands(p.tokens_per_sec).c_str(),
                     p.train_loss, p.test_loss, p.valid_bits_per_byte, p.mean_staleness,
                     static_cast<unsigned long long>(p.max_staleness), p.wall_seconds);
  return line + "  sample: " + printable(p.sample) + "\n";
}

std::string progress_line(const job_config& cfg, const progress_point& p) {
  if (p.text)
    return text_progress_line(p);
  std::string quality
    = cfg.dataset == dataset_kind::linreg
        ? format("test mse %.5f", p.test_mse)
        : format("test acc %.4f", p.test_accuracy);
  auto line = format("epoch %5.2f  updates %7llu  loss %.4f  %s  samples/s %9s  staleness mean %.2f "
                     "max %llu",
                     p.epoch, static_cast<unsigned long long>(p.updates), p.train_loss,
                     quality.c_str(), thousands(p.samples_per_sec).c_str(), p.mean_staleness,
                     static_cast<unsigned long long>(p.max_staleness));
  // Clock lag and blocked time matter when workers wait for each other.
  if (cfg.consistency.model != consistency_model::async || !cfg.stragglers.empty())
    line += format("  lag %llu gap %llu blocked %.0f%%", static_cast<unsigned long long>(p.clock_lag),
                   static_cast<unsigned long long>(p.max_clock_gap),
                   p.training_seconds > 0
                     ? 100.0 * p.blocked_seconds / (p.training_seconds * cfg.workers)
                     : 0.0);
  return line + format("  [%.1fs]\n", p.wall_seconds);
}

std::string closing_lines(const job_config& cfg, const job_outcome& outcome) {
  const auto& r = *outcome.report;
  const auto& f = r.final_point;
  if (r.final_params.empty()) {
    // No final cut (training diverged, or nothing could be cut): say what is on disk.
    return format("no final checkpoint; %s\n  %llu updates, %s samples in %.2f s of training; "
                  "wall %.1f s\n",
                  r.newest_checkpoint.empty()
                    ? "this run wrote no checkpoint"
                    : ("the newest checkpoint of this run is " + r.newest_checkpoint + " (update "
                       + std::to_string(r.newest_checkpoint_updates) + ")")
                        .c_str(),
                  static_cast<unsigned long long>(r.updates), thousands(r.samples).c_str(),
                  r.training_seconds, r.wall_seconds);
  }
  std::string out = r.stopped_early ? "stopped: " : !r.failure.empty() ? "ended early: " : "done: ";
  if (f.text)
    out += format("valid loss %.4f nats/byte = %.4f bits/byte", f.test_loss, f.valid_bits_per_byte);
  else if (cfg.dataset == dataset_kind::linreg)
    out += format("test mse %.6f, weights distance from least squares %.2e", f.test_mse,
                  weights_distance(r.final_params, outcome.least_squares));
  else
    out += format("test accuracy %.4f on %zu test samples", f.test_accuracy, outcome.test_samples);
  out += " (final checkpoint " + (r.checkpoint_path.empty() ? std::string("none") : r.checkpoint_path)
         + ")\n";
  if (f.text)
    out += format("  %llu updates, %s tokens in %.2f s of training = %s tokens/s; wall %.1f s\n",
                  static_cast<unsigned long long>(r.updates),
                  thousands(static_cast<double>(r.samples * outcome.context)).c_str(),
                  r.training_seconds,
                  thousands(r.training_seconds > 0 ? r.samples * outcome.context / r.training_seconds : 0)
                    .c_str(),
                  r.wall_seconds);
  else
    out += format("  %llu updates, %s samples in %.2f s of training = %s samples/s; wall %.1f s\n",
                  static_cast<unsigned long long>(r.updates), thousands(r.samples).c_str(),
                  r.training_seconds,
                  thousands(r.training_seconds > 0 ? r.samples / r.training_seconds : 0).c_str(),
                  r.wall_seconds);
  out += format("  staleness mean %.2f max %llu; restarts: worker %llu, shard %llu, "
                "checkpointer %llu\n",
                f.mean_staleness, static_cast<unsigned long long>(f.max_staleness),
                static_cast<unsigned long long>(r.restarts.at("worker")),
                static_cast<unsigned long long>(r.restarts.at("shard")),
                static_cast<unsigned long long>(r.restarts.at("checkpointer")));
  if (!r.shards_from_restore_point.empty()) {
    std::string which;
    for (auto j : r.shards_from_restore_point)
      which += (which.empty() ? "" : ", ") + std::to_string(j);
    out += "  shard" + std::string(r.shards_from_restore_point.size() == 1 ? " " : "s ") + which
           + " did not answer the final cut: the final parameters hold their newest checkpoint's "
             "(or the start's) part there\n";
  }
  auto failovers = r.failovers.at("shard");
  bool faults = failovers + r.restarts.at("worker") + r.restarts.at("shard")
                  + r.restarts.at("standby") + r.updates_lost > 0
                || !r.faults_injected.empty();
  if (faults || r.shard_replicas > 0)
    out += format("  standbys per shard %u: failovers %llu, standbys remade %llu; updates lost "
                  "%llu%s\n",
                  r.shard_replicas, static_cast<unsigned long long>(failovers),
                  static_cast<unsigned long long>(r.restarts.at("standby")),
                  static_cast<unsigned long long>(r.updates_lost),
                  r.updates_lost == 0 ? ""
                  : r.shard_replicas == 0
                    ? " (a shard restored from a checkpoint loses the updates since it; "
                      "--shard-replicas=1 keeps them)"
                    : " (every copy of a shard was lost at once, e.g. its primary's and its "
                      "standbys' nodes together: it was restored from a checkpoint; more "
                      "--shard-replicas survive more simultaneous losses)");
  return out;
}

} // namespace tether
