#include "cli/status_json.hpp"

#include <string_view>

namespace tether {

namespace {

/// "name=value" lines as an object of strings; lines without '=' are left out.
void write_config(json_writer& w, const std::string& text) {
  w.begin_object();
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos)
      end = text.size();
    std::string_view line(text.data() + begin, end - begin);
    if (size_t eq = line.find('='); eq != std::string_view::npos)
      w.key(line.substr(0, eq)).string(line.substr(eq + 1));
    begin = end + 1;
  }
  w.end_object();
}

void write_actor(json_writer& w, const char* role, uint32_t index, const std::string& node,
                 bool alive) {
  w.begin_object();
  w.key("role").string(role).key("index").unsigned_integer(index);
  w.key("node").string(node).key("alive").boolean(alive);
  w.end_object();
}

void write_actors(json_writer& w, const job_status& s) {
  // The supervisor and the checkpointer run in the first process listed ("local", or the
  // coordinator); workers and shards say where they run.
  std::string home = s.nodes.empty() ? "local" : s.nodes.front().name;
  auto where = [&](const std::string& node) { return node.empty() ? home : node; };
  bool running = s.state != "finished";
  w.begin_array();
  write_actor(w, "supervisor", 0, home, running);
  write_actor(w, "checkpointer", 0, home, running);
  for (const auto& wk : s.worker)
    write_actor(w, "worker", wk.index, where(wk.node), wk.alive);
  for (const auto& sh : s.shard)
    write_actor(w, "shard", sh.index, where(sh.node), running);
  w.end_array();
}

void write_progress(json_writer& w, const job_status& s) {
  w.begin_object();
  w.key("wall_seconds").number(s.wall_seconds);
  w.key("training_seconds").number(s.training_seconds);
  w.key("updates").unsigned_integer(s.updates);
  w.key("samples").unsigned_integer(s.samples);
  w.key("epoch").number(s.epoch);
  w.key("samples_per_sec").number(s.samples_per_sec);
  w.key("train_loss").number(s.train_loss);
  w.key("test_accuracy").number(s.test_accuracy);
  w.key("test_loss").number(s.test_loss);
  if (s.context > 0) { // the LM
    w.key("valid_loss").number(s.test_loss);
    w.key("valid_bits_per_byte").number(s.valid_bits_per_byte);
    w.key("tokens_per_sec").number(s.tokens_per_sec);
    w.key("sample").string(s.sample);
  }
  w.key("mean_staleness").number(s.tau_count > 0 ? s.tau_sum / double(s.tau_count) : 0.0);
  w.key("clock_lag").unsigned_integer(s.clock_lag);
  w.key("max_clock_gap").unsigned_integer(s.max_clock_gap);
  w.end_object();
}

void write_workers(json_writer& w, const job_status& s) {
  w.begin_array();
  for (const auto& wk : s.worker) {
    w.begin_object();
    w.key("index").unsigned_integer(wk.index);
    w.key("alive").boolean(wk.alive);
    w.key("clock").unsigned_integer(wk.clock);
    w.key("samples").unsigned_integer(wk.samples);
    w.key("blocked_seconds").number(wk.blocked_seconds);
    w.key("last_loss").number(wk.last_loss);
    w.key("steps").unsigned_integer(wk.steps);
    w.key("step_seconds_sum").number(wk.step_seconds_sum);
    w.key("step_buckets").begin_array();
    for (uint64_t count : wk.step_buckets)
      w.unsigned_integer(count);
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

void write_shards(json_writer& w, const job_status& s) {
  w.begin_array();
  for (const auto& sh : s.shard) {
    w.begin_object();
    w.key("index").unsigned_integer(sh.index);
    w.key("range_begin").unsigned_integer(sh.range_begin);
    w.key("range_end").unsigned_integer(sh.range_end);
    w.key("version").unsigned_integer(sh.version);
    w.key("applied").unsigned_integer(sh.applied);
    w.end_object();
  }
  w.end_array();
}

} // namespace

void write_progress_point(json_writer& w, const progress_point& p, bool regression) {
  w.begin_object();
  write_progress_fields(w, p, regression);
  w.end_object();
}

void write_progress_fields(json_writer& w, const progress_point& p, bool regression) {
  w.key("wall_seconds").number(p.wall_seconds);
  w.key("training_seconds").number(p.training_seconds);
  w.key("updates").unsigned_integer(p.updates);
  w.key("epoch").number(p.epoch);
  w.key("train_loss").number(p.train_loss);
  w.key("test_loss").number(p.test_loss);
  if (regression)
    w.key("test_accuracy").null();
  else
    w.key("test_accuracy").number(p.test_accuracy);
  w.key("test_mse").number(p.test_mse);
  w.key("samples_per_sec").number(p.samples_per_sec);
  w.key("mean_staleness").number(p.mean_staleness);
  w.key("max_staleness").unsigned_integer(p.max_staleness);
  w.key("max_clock_gap").unsigned_integer(p.max_clock_gap);
  w.key("clock_lag").unsigned_integer(p.clock_lag);
  w.key("blocked_seconds").number(p.blocked_seconds);
  if (p.text) { // the LM: validation loss per byte, throughput in tokens, its sample
    w.key("valid_loss").number(p.test_loss);
    w.key("valid_bits_per_byte").number(p.valid_bits_per_byte);
    w.key("tokens_per_sec").number(p.tokens_per_sec);
    w.key("sample").string(p.sample);
  }
  w.key("final").boolean(p.final);
}

std::string status_json(const job_status& s) {
  json_writer w;
  w.begin_object();
  w.key("state").string(s.state);
  w.key("model").string(s.model);
  w.key("dataset").string(s.dataset);
  w.key("consistency").string(s.consistency);
  w.key("workers").unsigned_integer(s.workers);
  w.key("shards").unsigned_integer(s.shards);
  w.key("epochs").unsigned_integer(s.epochs);
  w.key("config");
  write_config(w, s.config);
  w.key("nodes").begin_array();
  for (const auto& n : s.nodes)
    w.begin_object().key("name").string(n.name).key("up").boolean(n.up).end_object();
  w.end_array();
  w.key("actors");
  write_actors(w, s);
  w.key("progress");
  write_progress(w, s);
  w.key("worker");
  write_workers(w, s);
  w.key("shard");
  write_shards(w, s);
  w.key("step_time_bounds").begin_array();
  for (double b : step_time_bounds)
    w.number(b);
  w.end_array();
  w.key("staleness").begin_object().key("histogram").begin_array();
  for (uint64_t count : s.staleness_histogram)
    w.unsigned_integer(count);
  w.end_array();
  w.key("sum").number(s.tau_sum).key("count").unsigned_integer(s.tau_count).end_object();
  w.key("restarts").begin_object();
  for (const auto& [role, count] : s.restarts)
    w.key(role).unsigned_integer(count);
  w.end_object();
  w.key("checkpoints").begin_object();
  w.key("written").unsigned_integer(s.checkpoints_written);
  w.key("seconds_sum").number(s.checkpoint_seconds_sum);
  w.key("seconds_last").number(s.checkpoint_seconds_last);
  w.key("bytes_last").unsigned_integer(s.checkpoint_bytes_last);
  w.end_object();
  w.key("curve").begin_array();
  for (const auto& p : s.curve)
    write_progress_point(w, p, s.dataset == "linreg");
  w.end_array();
  w.end_object();
  return w.str();
}

} // namespace tether
