#include "actors/job_plan.hpp"

#include "ps/work_dispatcher.hpp"

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

} // namespace

result<std::shared_ptr<const job_plan>> make_job_plan(const job_config& cfg, train_test data,
                                                      std::shared_ptr<const model> net) {
  auto plan = std::make_shared<job_plan>();
  plan->cfg = cfg;
  plan->net = std::move(net);
  plan->data = std::move(data);
  const auto& train = *plan->data.train;
  const auto& layout = plan->net->layout();
  if (cfg.shards > layout.total)
    return bad("--shards=" + std::to_string(cfg.shards) + " is more than the "
               + std::to_string(layout.total) + " parameters of the model");
  if (train.count < size_t{cfg.workers} * cfg.batch)
    return bad("the training set has " + std::to_string(train.count) + " samples, fewer than "
               + "--workers x --batch = " + std::to_string(size_t{cfg.workers} * cfg.batch)
               + "; use fewer workers, a smaller batch or more data (--limit-train)");
  plan->ranges = split_ranges(layout.total, cfg.shards);

  work_dispatcher::settings ws;
  ws.lockstep = plan->lockstep();
  ws.samples = train.count;
  ws.batch = cfg.batch;
  ws.epochs = cfg.epochs;
  ws.limit = cfg.steps;
  ws.slot_capacity = cfg.slot_capacity();
  work_dispatcher planner{ws};
  for (uint32_t s = 0; s < cfg.workers; ++s)
    planner.add_slot(s, 0);
  plan->updates_per_epoch = plan->lockstep() ? planner.rounds_per_epoch(cfg.workers)
                                             : planner.tickets_per_epoch();
  plan->planned_updates = planner.planned_updates();
  plan->optimizer = cfg.optimizer;
  plan->optimizer.total_updates = plan->planned_updates;
  return std::shared_ptr<const job_plan>{std::move(plan)};
}

} // namespace tether
