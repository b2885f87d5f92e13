#include "cli/prometheus_text.hpp"
#include "tests/skip.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

using namespace tether;
namespace fs = std::filesystem;

namespace {

/// A job in its second epoch: two workers, two shards, a curve of two points.
job_status training_job() {
  job_status s;
  s.state = "training";
  s.model = "mlp:784,256,128,10";
  s.dataset = "fashion-mnist";
  s.consistency = "async";
  s.workers = s.shards = 2;
  s.epochs = 3;
  s.updates = 1872;
  s.samples = 119808;
  s.epoch = 2;
  s.samples_per_sec = 57870.5;
  s.training_seconds = 3.1;
  s.wall_seconds = 4.5;
  s.train_loss = 0.36;
  s.test_accuracy = 0.855;
  s.test_loss = 0.4;
  for (uint32_t i = 0; i < 2; ++i) {
    worker_status w;
    w.index = i;
    w.alive = i == 0;
    w.clock = 936 + i;
    w.samples = 59904 + i;
    w.blocked_seconds = 0.25 * (i + 1);
    w.steps = 936;
    w.step_seconds_sum = 1.5;
    w.step_buckets.assign(step_time_bounds.size() + 1, 0);
    w.step_buckets[3] = 900; // le 0.005
    w.step_buckets[4] = 30;  // le 0.01
    w.step_buckets.back() = 6;
    s.worker.push_back(w);
    s.shard.push_back({i, i * 100u, (i + 1) * 100u, 1872, 1872, ""});
  }
  s.staleness_histogram = {900, 1500, 800, 300, 44};
  s.tau_sum = 1500 + 1600 + 900 + 176;
  s.tau_count = 3544;
  s.clock_lag = 3;
  s.max_clock_gap = 4;
  s.restarts["worker"] = 1;
  s.checkpoints_written = 2;
  s.checkpoint_seconds_sum = 0.5;
  s.checkpoint_seconds_last = 0.25;
  s.checkpoint_bytes_last = 1 << 20;
  return s;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

/// The family a sample belongs to: its name less a histogram or summary suffix, when that
/// family was declared.
std::string family_of(const std::string& name, const std::set<std::string>& declared) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (name.size() > s.size() && name.ends_with(s)) {
      auto base = name.substr(0, name.size() - s.size());
      if (declared.count(base))
        return base;
    }
  }
  return name;
}

/// Runs `command` through the shell; its exit code and what it printed (stdout+stderr).
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
    out.append(buf, n);
  int rc = ::pclose(pipe);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

bool promtool_found() {
  return std::system("command -v promtool > /dev/null 2>&1") == 0;
}

/// promtool check metrics on `text`: exit code and its complaints.
std::pair<int, std::string> promtool_check(const std::string& text) {
  auto path = fs::temp_directory_path() / ("tether_prom_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path, std::ios::binary) << text;
  auto result = run("promtool check metrics < " + path.string());
  fs::remove(path);
  return result;
}

} // namespace

TEST_CASE("prometheus_text: counters, gauges and labels of a training job") {
  auto text = prometheus_text(training_job());
  CHECK(has_line(text, "# TYPE tether_updates_total counter"));
  CHECK(has_line(text, "tether_updates_total 1872"));
  CHECK(has_line(text, "tether_samples_per_second 57870.5"));
  CHECK(has_line(text, "tether_epoch 2"));
  CHECK(has_line(text, "tether_train_loss 0.36"));
  CHECK(has_line(text, "tether_test_accuracy 0.855"));
  CHECK(has_line(text, "tether_worker_samples_total{worker=\"0\"} 59904"));
  CHECK(has_line(text, "tether_worker_samples_total{worker=\"1\"} 59905"));
  CHECK(has_line(text, "tether_worker_steps_total{worker=\"1\"} 937"));
  CHECK(has_line(text, "tether_worker_up{worker=\"1\"} 0"));
  CHECK(has_line(text, "tether_worker_pull_wait_seconds_total{worker=\"1\"} 0.5"));
  CHECK(has_line(text, "tether_shard_updates_total{shard=\"1\"} 1872"));
  CHECK(has_line(text, "tether_clock_lag 3"));
  CHECK(has_line(text, "tether_max_clock_gap 4"));
  CHECK(has_line(text, "tether_restarts_total{role=\"worker\"} 1"));
  CHECK(has_line(text, "tether_restarts_total{role=\"shard\"} 0"));
  CHECK(has_line(text, "tether_checkpoint_duration_seconds_count 2"));
  CHECK(has_line(text, "tether_checkpoint_last_bytes 1048576"));
  CHECK(has_line(text, "tether_node_up{node=\"local\"} 1"));
  CHECK(has_line(text, "tether_job_info{model=\"mlp:784,256,128,10\",dataset=\"fashion-mnist\","
                       "consistency=\"async\",state=\"training\"} 1"));
}

TEST_CASE("prometheus_text: the staleness and step-time histograms are cumulative") {
  auto text = prometheus_text(training_job());
  CHECK(has_line(text, "# TYPE tether_staleness histogram"));
  CHECK(has_line(text, "tether_staleness_bucket{le=\"0\"} 900"));
  CHECK(has_line(text, "tether_staleness_bucket{le=\"1\"} 2400"));
  CHECK(has_line(text, "tether_staleness_bucket{le=\"4\"} 3544"));
  CHECK(has_line(text, "tether_staleness_bucket{le=\"+Inf\"} 3544"));
  CHECK(has_line(text, "tether_staleness_sum 4176"));
  CHECK(has_line(text, "tether_staleness_count 3544"));

  CHECK(has_line(text, "# TYPE tether_step_seconds histogram"));
  CHECK(has_line(text, "tether_step_seconds_bucket{worker=\"0\",le=\"0.0005\"} 0"));
  CHECK(has_line(text, "tether_step_seconds_bucket{worker=\"0\",le=\"0.002\"} 0"));
  CHECK(has_line(text, "tether_step_seconds_bucket{worker=\"0\",le=\"0.005\"} 900"));
  CHECK(has_line(text, "tether_step_seconds_bucket{worker=\"0\",le=\"0.01\"} 930"));
  CHECK(has_line(text, "tether_step_seconds_bucket{worker=\"0\",le=\"1\"} 930"));
  CHECK(has_line(text, "tether_step_seconds_bucket{worker=\"1\",le=\"+Inf\"} 936"));
  CHECK(has_line(text, "tether_step_seconds_sum{worker=\"1\"} 1.5"));
  CHECK(has_line(text, "tether_step_seconds_count{worker=\"1\"} 936"));
}

TEST_CASE("prometheus_text: every sample belongs to a family with one HELP and one TYPE") {
  auto text = prometheus_text(training_job());
  std::set<std::string> help, type;
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    REQUIRE(!line.empty());
    if (line.starts_with("# HELP ")) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK_MESSAGE(help.insert(name).second, "two HELP lines for " << name);
    } else if (line.starts_with("# TYPE ")) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK_MESSAGE(type.insert(name).second, "two TYPE lines for " << name);
      CHECK_MESSAGE(help.count(name), "TYPE before HELP for " << name);
    } else {
      auto name = line.substr(0, line.find_first_of("{ "));
      CHECK_MESSAGE(name.starts_with("tether_"), line);
      CHECK_MESSAGE(type.count(family_of(name, type)), "no TYPE for " << line);
      ++samples;
    }
  }
  CHECK(samples > 50);
  CHECK(text.back() == '\n');
}

TEST_CASE("prometheus_text: no NaN before the first evaluation, labels escaped") {
  job_status fresh; // train_loss and test_accuracy are NaN, no workers yet
  fresh.model = "odd \"model\"\\\nname";
  auto text = prometheus_text(fresh);
  CHECK(text.find("NaN") == std::string::npos);
  CHECK(text.find("tether_train_loss") == std::string::npos);
  CHECK(text.find("tether_test_accuracy") == std::string::npos);
  CHECK(text.find("tether_worker_up") == std::string::npos);
  CHECK(text.find("model=\"odd \\\"model\\\"\\\\\\nname\"") != std::string::npos);
  CHECK(has_line(text, "tether_staleness_bucket{le=\"+Inf\"} 0"));
  CHECK(has_line(text, "tether_staleness_count 0"));
}

TEST_CASE("prometheus_text: promtool check metrics finds no problem") {
  if (!promtool_found()) {
    tether::testing::skip_test("promtool not found (Debian package prometheus)");
  }
  for (const auto& status : {training_job(), job_status{}}) {
    auto [rc, out] = promtool_check(prometheus_text(status));
    CHECK_MESSAGE(rc == 0, out);
    CHECK_MESSAGE(out.empty(), "promtool lint: " << out);
  }
}
