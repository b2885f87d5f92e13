#include "actors/job_plan.hpp"

#include "core/text_corpus.hpp"
#include "ps/work_dispatcher.hpp"

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

/// The checks and derived figures both models share.
result<std::shared_ptr<const job_plan>> finish_plan(std::shared_ptr<job_plan> plan) {
  const auto& cfg = plan->cfg;
  const auto& layout = plan->layout();
  auto count = plan->train_count();
  if (cfg.shards > layout.total)
    return bad("--shards=" + std::to_string(cfg.shards) + " is more than the "
               + std::to_string(layout.total) + " parameters of the model");
  if (count < size_t{cfg.workers} * cfg.batch)
    return bad("the training set has " + std::to_string(count)
               + (plan->gpt ? " windows of --context + 1 bytes" : " samples") + ", fewer than "
               + "--workers x --batch = " + std::to_string(size_t{cfg.workers} * cfg.batch)
               + "; use fewer workers, a smaller batch or more data"
               + (plan->gpt ? "" : " (--limit-train)"));
  plan->ranges = split_ranges(layout.total, cfg.shards);

  work_dispatcher::settings ws;
  ws.lockstep = plan->lockstep();
  ws.samples = count;
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
  if (plan->gpt)
    plan->optimizer.decayed = plan->gpt->decayed_ranges();
  return std::shared_ptr<const job_plan>{std::move(plan)};
}

} // namespace

uint64_t job_plan::train_count() const {
  if (gpt)
    return text_sample_count(data.text->train.size(), gpt->config().context);
  return data.train->count;
}

uint64_t job_plan::train_fingerprint() const {
  return gpt ? fingerprint(*data.text) : fingerprint(*data.train);
}

void job_plan::init_params(std::span<float> params, uint64_t seed) const {
  if (gpt)
    gpt->init_params(params, seed);
  else
    net->init_params(params, seed);
}

result<std::shared_ptr<const job_plan>> make_job_plan(const job_config& cfg, train_test data,
                                                      std::shared_ptr<const model> net) {
  auto plan = std::make_shared<job_plan>();
  plan->cfg = cfg;
  plan->net = std::move(net);
  plan->data = std::move(data);
  return finish_plan(std::move(plan));
}

result<std::shared_ptr<const job_plan>> make_job_plan(const job_config& cfg, train_test data,
                                                      std::shared_ptr<const gpt_model> gpt) {
  auto plan = std::make_shared<job_plan>();
  plan->cfg = cfg;
  plan->gpt = std::move(gpt);
  plan->data = std::move(data);
  return finish_plan(std::move(plan));
}

} // namespace tether
