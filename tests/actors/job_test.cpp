// End-to-end tests of a job in one process: training to an accuracy, restarts after
// kills, the restart budget, stop and resume, corrupt checkpoints, bad set-ups.
#include "actors/job.hpp"
#include "messages/checkpoint_file.hpp"
#include "tests/skip.hpp"

#include <doctest/doctest.h>
#include "tests/actors/linreg_job.hpp"
#include "tests/temp_dir.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace tether;
namespace fs = std::filesystem;

namespace {

const char* fashion_dir = "/usr/share/datasets/fashion-mnist";

using tether::testing::linreg_job;
using tether::testing::temp_dir;

job_hooks quiet_hooks(std::vector<std::string>* notes = nullptr) {
  job_hooks hooks;
  hooks.on_message = [notes](const std::string& line) {
    if (notes)
      notes->push_back(line);
  };
  return hooks;
}

double weights_error(const job_outcome& out) {
  const auto& p = out.report->final_params;
  const auto& ls = out.least_squares;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ls.size(); ++i) {
    diff += (p[i] - ls[i]) * (p[i] - ls[i]);
    norm += ls[i] * ls[i];
  }
  return std::sqrt(diff / norm);
}

} // namespace

TEST_SUITE_BEGIN("job");

TEST_CASE("linear regression converges to the least-squares weights") {
  temp_dir dir;
  auto out = run_job(linreg_job(dir, 4), quiet_hooks());
  REQUIRE_MESSAGE(out.failure == job_failure::none, out.message);
  REQUIRE(out.report);
  CHECK(weights_error(out) < 1e-2);
  CHECK(out.report->final_point.test_mse < 0.02);
  CHECK(fs::exists(out.report->checkpoint_path));
  CHECK(out.report->updates == 4 * (10000 / 64) * 2);
}

TEST_CASE("Fashion-MNIST on a 10,000-sample subset reaches 0.75 test accuracy") {
  if (!fs::exists(fashion_dir)) {
    tether::testing::skip_test(std::string(fashion_dir) +
                               " is missing (Debian package dataset-fashion-mnist)");
  }
  temp_dir dir;
  job_config cfg;
  cfg.limit_train = 10000;
  cfg.epochs = 2;
  cfg.checkpoint_dir = (dir / "ckpt");
  auto out = run_job(cfg, quiet_hooks());
  REQUIRE_MESSAGE(out.failure == job_failure::none, out.message);
  CHECK(out.test_samples == 10000);
  CHECK(out.report->final_point.test_accuracy >= 0.75);
  CHECK(out.report->curve.size() >= 2);
  CHECK(out.report->final_point.mean_staleness > 0);
}

TEST_CASE("a killed worker and a killed shard are restarted and the job finishes") {
  temp_dir dir;
  auto cfg = linreg_job(dir, 4);
  cfg.epochs = 40; // long enough that both kills land while the job runs
  cfg.eval_every = 100;
  cfg.checkpoint_every = 100;
  int points = 0;
  bool killed_worker = false, killed_shard = false;
  auto hooks = quiet_hooks();
  hooks.on_point = [&](const progress_point&, job_control& control) {
    ++points;
    if (points == 2)
      killed_worker = control.kill_worker(0);
    if (points == 4)
      killed_shard = control.kill_shard(1);
  };
  auto out = run_job(cfg, hooks);
  REQUIRE_MESSAGE(out.failure == job_failure::none, out.message);
  CHECK(killed_worker);
  CHECK(killed_shard);
  CHECK(out.report->restarts.at("worker") == 1);
  CHECK(out.report->restarts.at("shard") == 1);
  // The shard came back from a checkpoint at most 100 updates old: the job still
  // converges.
  CHECK(weights_error(out) < 1e-2);
}

TEST_CASE("a spent restart budget stops the job with a message naming the actor") {
  temp_dir dir;
  auto cfg = linreg_job(dir, 4);
  // Long enough (about a second) that worker 1 is surely still running when the runner
  // handles the first evaluation point, whatever the machine's load.
  cfg.epochs = 40;
  cfg.eval_every = 100;
  cfg.max_restarts = 0;
  auto hooks = quiet_hooks();
  bool killed = false;
  hooks.on_point = [&](const progress_point&, job_control& control) {
    if (!killed)
      killed = control.kill_worker(1);
  };
  auto out = run_job(cfg, hooks);
  CHECK(killed);
  CHECK(out.failure == job_failure::budget);
  CHECK(out.message.find("worker 1") != std::string::npos);
  CHECK(out.message.find("--max-restarts") != std::string::npos);
  // It still stops cleanly: the surviving state is checkpointed.
  REQUIRE(out.report);
  CHECK(!out.report->checkpoint_path.empty());
}

TEST_CASE("a stopped job resumes from its final checkpoint, also on another shard count") {
  temp_dir dir;
  auto cfg = linreg_job(dir, 4);
  cfg.epochs = 40; // long enough that the stop lands while the job runs
  cfg.eval_every = 50;
  auto hooks = quiet_hooks();
  int points = 0;
  hooks.stop_requested = [&] { return points >= 2; };
  hooks.on_point = [&](const progress_point&, job_control&) { ++points; };
  auto first = run_job(cfg, hooks);
  REQUIRE_MESSAGE(first.failure == job_failure::none, first.message);
  CHECK(first.report->stopped_early);
  auto stopped_at = first.report->updates;
  CHECK(stopped_at < uint64_t{cfg.epochs} * (10000 / 64) * 2);

  cfg.resume = true;
  cfg.shards = 3;
  auto second = run_job(cfg, quiet_hooks());
  REQUIRE_MESSAGE(second.failure == job_failure::none, second.message);
  CHECK(second.resumed_from == first.report->checkpoint_path);
  CHECK(second.report->updates == uint64_t{cfg.epochs} * (10000 / 64) * 2);
  CHECK(second.report->samples == (second.report->updates - stopped_at) * cfg.batch);
  CHECK(weights_error(second) < 1e-2);
}

TEST_CASE("resume skips a corrupt newest checkpoint and uses the one before") {
  temp_dir dir;
  auto cfg = linreg_job(dir, 4);
  // Two checkpoints for sure, whatever the timing: the final one of a 1-epoch run and the
  // final one of its resumed 2-epoch continuation (a periodic checkpoint of a run this
  // short may coalesce with the final cut on a busy machine).
  cfg.epochs = 1;
  auto first = run_job(cfg, quiet_hooks());
  REQUIRE_MESSAGE(first.failure == job_failure::none, first.message);
  cfg.resume = true;
  cfg.epochs = 2;
  auto continued = run_job(cfg, quiet_hooks());
  REQUIRE_MESSAGE(continued.failure == job_failure::none, continued.message);
  auto files = list_checkpoints(cfg.checkpoint_dir);
  REQUIRE(files.size() >= 2);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(files[0]) / 2));
    f.put('\x5a');
  }
  cfg.epochs = 3;
  std::vector<std::string> notes;
  auto second = run_job(cfg, quiet_hooks(&notes));
  REQUIRE_MESSAGE(second.failure == job_failure::none, second.message);
  CHECK(second.resumed_from == files[1]);
  bool reported = false;
  for (const auto& n : notes)
    reported |= n.find("corrupt") != std::string::npos && n.find(files[0]) != std::string::npos;
  CHECK(reported);
}

TEST_CASE("resume with another model is refused") {
  temp_dir dir;
  auto cfg = linreg_job(dir, 4);
  cfg.epochs = 1;
  REQUIRE(run_job(cfg, quiet_hooks()).failure == job_failure::none);
  cfg.resume = true;
  cfg.model = "mlp:20,8,1";
  auto out = run_job(cfg, quiet_hooks());
  CHECK(out.failure != job_failure::none);
}

TEST_CASE("bad set-ups fail before training with one clear message") {
  temp_dir dir;
  SUBCASE("checkpoint directory below a regular file") {
    std::ofstream(dir.path / "file") << "x";
    auto cfg = linreg_job(dir, 4);
    cfg.checkpoint_dir = (dir.path / "file" / "ckpt").string();
    auto out = run_job(cfg, quiet_hooks());
    CHECK(out.failure == job_failure::checkpoint);
    CHECK(out.message.find("file/ckpt") != std::string::npos);
    CHECK_FALSE(out.report);
  }
  SUBCASE("missing data directory") {
    job_config cfg;
    cfg.data_dir = (dir.path / "nope").string();
    cfg.checkpoint_dir = (dir / "ckpt");
    auto out = run_job(cfg, quiet_hooks());
    CHECK(out.failure == job_failure::data);
    CHECK(out.message.find("--data-dir") != std::string::npos);
  }
  SUBCASE("a model whose input does not fit the data") {
    auto cfg = linreg_job(dir, 4);
    cfg.model = "mlp:784,10,1";
    auto out = run_job(cfg, quiet_hooks());
    CHECK(out.failure == job_failure::data);
    CHECK(out.message.find("784") != std::string::npos);
  }
  SUBCASE("resume without any checkpoint") {
    auto cfg = linreg_job(dir, 4);
    cfg.resume = true;
    auto out = run_job(cfg, quiet_hooks());
    CHECK(out.failure == job_failure::checkpoint);
  }
  SUBCASE("more workers than batches") {
    auto cfg = linreg_job(dir, 4);
    cfg.workers = 200;
    cfg.batch = 100;
    auto out = run_job(cfg, quiet_hooks());
    CHECK(out.failure == job_failure::usage);
  }
  CHECK(list_checkpoints((dir / "ckpt")).empty());
}

TEST_SUITE_END();
