// What a simulation costs before it runs: the base step time measured here and the memory
// of the simulated workers (declared in sim/simulation.hpp).
#include "sim/simulation.hpp"

#include "core/sampler.hpp"

#include <algorithm>
#include <time.h>

namespace tether {

uint64_t simulation_bytes(const job_plan& plan) {
  uint64_t per_worker = plan.net->layout().total * sizeof(float);
  if (plan.cfg.consistency.dc_lambda > 0)
    per_worker *= 2;
  uint64_t workers = plan.cfg.workers;
  return per_worker != 0 && workers > UINT64_MAX / per_worker ? UINT64_MAX : per_worker * workers;
}

double measure_step_seconds(const job_plan& plan, int steps) {
  const auto& net = *plan.net;
  std::vector<float> params(net.layout().total), grad(params.size()), x, y;
  net.init_params(params, plan.cfg.seed);
  batch_order order(plan.data.train->count, plan.cfg.batch, plan.cfg.seed);
  model_workspace ws;
  auto one = [&](int i) {
    auto idx = order.indices(0, static_cast<size_t>(i) % order.batches_per_epoch());
    gather_batch(*plan.data.train, idx, x, y);
    (void)net.loss_and_gradient(params, x, y, idx.size(), grad, ws);
  };
  // This thread's CPU time: the compute a step needs, whatever else the machine runs.
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  one(0);
  double start = cpu_seconds();
  for (int i = 1; i <= steps; ++i)
    one(i);
  double seconds = cpu_seconds() - start;
  return std::max(seconds / std::max(1, steps), 1e-9);
}

} // namespace tether
