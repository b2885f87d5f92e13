// The simulator's cost beside the gradients it computes (issue 17): simulated steps per
// second of `tether simulate`'s engine (1,024 workers, ssp S=3, softmax, batch 16, one
// epoch of Fashion-MNIST) against a bare loop computing the same gradients (same model,
// batch and data, one core). Target: the simulation at least 0.8x the bare loop.
// Times are this thread's CPU seconds (OpenBLAS runs single-threaded in tether).
// Usage: sim_overhead [--workers=N] [--repeats=R]
#include "actors/job_setup.hpp"
#include "core/optimizer.hpp"
#include "core/sampler.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <time.h>

using namespace tether;

namespace {

/// This thread's CPU time: the machine is shared, and other processes' load would count
/// against whichever side of the ratio it happened to fall on in wall time.
double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Steps per second of a loop doing what each simulated step does for real: gather the
/// ticket's batch and compute its gradient; with `apply`, also the shards' optimizer step
/// on the whole vector (the real shard work every simulated step includes).
double bare_loop(const job_plan& plan, uint64_t steps, bool apply) {
  const auto& net = *plan.net;
  std::vector<float> params(net.layout().total), grad(params.size()), x, y;
  net.init_params(params, plan.cfg.seed);
  batch_order order(plan.data.train->count, plan.cfg.batch, plan.cfg.seed);
  model_workspace ws;
  range_optimizer opt(plan.optimizer, params.size());
  double sink = 0, start = now_seconds();
  for (uint64_t i = 0; i < steps; ++i) {
    auto idx = order.indices(i / order.batches_per_epoch(), i % order.batches_per_epoch());
    gather_batch(*plan.data.train, idx, x, y);
    sink += net.loss_and_gradient(params, x, y, idx.size(), grad, ws);
    if (apply)
      opt.apply(params, grad, plan.optimizer.lr);
  }
  double seconds = now_seconds() - start;
  if (sink == 12345.678)
    std::printf(" ");
  return static_cast<double>(steps) / seconds;
}

} // namespace

int main(int argc, char** argv) {
  uint32_t workers = 1024;
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--workers=", 10) == 0)
      workers = static_cast<uint32_t>(std::stoul(argv[i] + 10));
    else if (std::strncmp(argv[i], "--repeats=", 10) == 0)
      repeats = std::stoi(argv[i] + 10);
  }
  job_config cfg;
  cfg.model = "softmax";
  cfg.batch = 16;
  cfg.epochs = 1;
  cfg.consistency.model = consistency_model::ssp;
  cfg.consistency.staleness = 3;
  auto data = load_job_data(cfg);
  if (auto* e = std::get_if<setup_error>(&data)) {
    std::fprintf(stderr, "sim_overhead: %s\n", e->message.c_str());
    return 1;
  }
  cfg.workers = 1;
  auto planned = plan_job(cfg, std::get<train_test>(data), 1);
  if (auto* e = std::get_if<setup_error>(&planned)) {
    std::fprintf(stderr, "sim_overhead: %s\n", e->message.c_str());
    return 1;
  }
  auto plan = std::make_shared<job_plan>(*std::get<std::shared_ptr<const job_plan>>(planned));
  plan->cfg.workers = workers;
  sim_settings s;
  s.base_step_seconds = 0.001;
  auto steps = plan->batches_per_epoch();
  std::printf("sim_overhead: softmax, batch 16, %u workers, ssp S=3, %llu steps per run\n", workers,
              static_cast<unsigned long long>(steps));
  std::vector<double> ratios, ratios_applied;
  for (int r = 0; r < repeats; ++r) {
    double bare = bare_loop(*plan, steps, false);
    double applied = bare_loop(*plan, steps, true);
    double start = now_seconds();
    auto result = simulate(*plan, s);
    double seconds = now_seconds() - start;
    if (!result) {
      std::fprintf(stderr, "sim_overhead: %s\n", result.error().message().c_str());
      return 1;
    }
    double simulated = static_cast<double>(result->steps) / seconds;
    ratios.push_back(simulated / bare);
    ratios_applied.push_back(simulated / applied);
    std::printf("  run %d: bare gradients %.0f steps/s, gradients + optimizer %.0f steps/s, "
                "simulation %.0f steps/s (%llu events, test acc %.4f)\n",
                r + 1, bare, applied, simulated, static_cast<unsigned long long>(result->events),
                result->report.final_point.test_accuracy);
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(ratios_applied.begin(), ratios_applied.end());
  std::printf("median ratio simulation / bare gradient loop: %.3f (target >= 0.8)\n",
              ratios[ratios.size() / 2]);
  std::printf("median ratio simulation / gradient + optimizer loop: %.3f\n",
              ratios_applied[ratios_applied.size() / 2]);
  return 0;
}
