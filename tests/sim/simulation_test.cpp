// The simulator against the real job: bsp bit for bit, the ssp bound, every batch once
// per epoch at 1,000+ workers (sim/simulation.hpp).
#include "sim/simulation.hpp"

#include "actors/job.hpp"
#include "actors/job_setup.hpp"

#include "tests/temp_dir.hpp"
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <map>

using namespace tether;
namespace fs = std::filesystem;
using tether::testing::temp_dir;

namespace {

/// A small Fashion-MNIST job (softmax, a few thousand samples), or linear regression where
/// the data set is not installed.
job_config small_job(const temp_dir& dir) {
  job_config cfg;
  if (fs::exists("/usr/share/datasets/fashion-mnist")) {
    cfg.model = "softmax";
    cfg.limit_train = 2048;
  } else {
    MESSAGE("Fashion-MNIST missing: checking on linear regression instead");
    cfg.dataset = dataset_kind::linreg;
    cfg.model = "linear";
  }
  cfg.batch = 16;
  cfg.epochs = 1;
  cfg.shards = 2;
  cfg.checkpoint_dir = dir / "ck";
  return cfg;
}

std::shared_ptr<const job_plan> plan_of(const job_config& cfg) {
  auto data = load_job_data(cfg);
  REQUIRE(std::holds_alternative<train_test>(data));
  auto plan = plan_job(cfg, std::get<train_test>(data), 1);
  if (auto* e = std::get_if<setup_error>(&plan))
    FAIL(e->message);
  return std::get<std::shared_ptr<const job_plan>>(plan);
}

/// The plan with more workers than it was made for (more than batches: some idle).
std::shared_ptr<const job_plan> with_workers(std::shared_ptr<const job_plan> plan, uint32_t n) {
  auto p = std::make_shared<job_plan>(*plan);
  p->cfg.workers = n;
  return p;
}

sim_settings settings(const std::string& step) {
  sim_settings s;
  auto m = parse_step_time(step);
  REQUIRE(m);
  s.step = *m;
  s.base_step_seconds = 0.001;
  return s;
}

} // namespace

TEST_SUITE_BEGIN("sim");

TEST_CASE("bsp simulated equals the real bsp job bit for bit at 2 workers and within 1e-6 at 4") {
  temp_dir dir;
  for (uint32_t workers : {2u, 4u}) {
    CAPTURE(workers);
    auto cfg = small_job(dir);
    cfg.consistency.model = consistency_model::bsp;
    cfg.workers = workers;
    cfg.checkpoint_dir = dir / ("ck" + std::to_string(workers));
    job_hooks hooks;
    hooks.on_message = [](const std::string&) {};
    auto real = run_job(cfg, hooks);
    REQUIRE_MESSAGE(real.failure == job_failure::none, real.message);
    auto sim = simulate(*plan_of(cfg), settings("lognormal:0.001,0.5"));
    REQUIRE(sim);
    const auto& a = real.report->final_params;
    const auto& b = sim->report.final_params;
    REQUIRE(a.size() == b.size());
    CHECK(real.report->updates == sim->report.updates);
    double diff = 0, norm = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      diff += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
      norm += double{a[i]} * a[i];
    }
    MESSAGE("relative L2 difference " << std::sqrt(diff / norm));
    // Two gradients sum the same in either order (float addition commutes); with more, a
    // round's sum depends on the order the pushes arrived in, which the real run's threads
    // decide: equal up to rounding then.
    if (workers == 2)
      CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    else
      CHECK(std::sqrt(diff / norm) < 1e-6);
    CHECK(sim->report.final_point.max_clock_gap == 0);
  }
}

TEST_CASE("ssp never exceeds its bound under stragglers and heavy-tailed pauses") {
  temp_dir dir;
  for (const char* step : {"straggler:0.1,4", "pareto:1.5,0.05", "lognormal:0.001,1"}) {
    for (uint64_t bound : {0u, 1u, 3u}) {
      CAPTURE(step);
      CAPTURE(bound);
      auto cfg = small_job(dir);
      cfg.consistency.model = consistency_model::ssp;
      cfg.consistency.staleness = bound;
      cfg.workers = 16;
      auto sim = simulate(*plan_of(cfg), settings(step));
      REQUIRE(sim);
      CHECK(sim->report.final_point.max_clock_gap <= bound);
      CHECK(sim->report.updates == 2048 / 16);
    }
  }
  // Async has no bound: the same stragglers run ahead.
  auto cfg = small_job(dir);
  cfg.workers = 16;
  auto sim = simulate(*plan_of(cfg), settings("straggler:0.1,4"));
  REQUIRE(sim);
  CHECK(sim->report.final_point.max_clock_gap > 3);
}

TEST_CASE("every batch once per epoch at 1024 and at 3000 workers, some of them idle") {
  temp_dir dir;
  auto cfg = small_job(dir);
  cfg.consistency.model = consistency_model::ssp;
  cfg.consistency.staleness = 3;
  cfg.epochs = 2;
  auto plan = plan_of(cfg);
  auto batches = plan->batches_per_epoch();
  for (uint32_t workers : {1024u, 3000u}) {
    CAPTURE(workers);
    std::map<std::pair<uint32_t, uint32_t>, int> seen;
    sim_hooks hooks;
    hooks.on_step = [&](uint32_t, uint64_t, batch_ticket t) { ++seen[{t.epoch, t.index}]; };
    auto sim = simulate(*with_workers(plan, workers), settings("lognormal:0.001,0.5"), hooks);
    REQUIRE(sim);
    CHECK(seen.size() == 2 * batches);
    for (auto& [ticket, count] : seen)
      CHECK(count == 1);
    CHECK(sim->steps == 2 * batches);
    CHECK(sim->report.final_point.max_clock_gap <= 3);
    if (workers > 2 * batches)
      CHECK(sim->idle_workers >= workers - 2 * batches);
  }
}

TEST_CASE("a simulation is reproducible from its seed") {
  temp_dir dir;
  auto cfg = small_job(dir);
  cfg.workers = 8;
  auto plan = plan_of(cfg);
  auto a = simulate(*plan, settings("lognormal:0.001,1"));
  auto b = simulate(*plan, settings("lognormal:0.001,1"));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->virtual_seconds == b->virtual_seconds);
  CHECK(a->report.final_params == b->report.final_params);
  CHECK(a->report.staleness_histogram == b->report.staleness_histogram);
}
