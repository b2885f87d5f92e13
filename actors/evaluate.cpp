#include "actors/evaluate.hpp"

#include "core/text_corpus.hpp"

namespace tether {

void evaluate_point(const job_plan& plan, std::span<const float> params, progress_point& p) {
  if (plan.gpt) {
    if (!plan.data.text)
      return;
    gpt_workspace ws;
    auto ev = plan.gpt->evaluate(params, plan.data.text->valid, gpt_eval_windows, ws);
    p.test_loss = ev.loss;
    p.valid_bits_per_byte = ev.bits_per_byte;
    p.sample = plan.gpt->generate(params, "", lm_sample_bytes, lm_sample_temperature,
                                  lm_sample_top_k, plan.cfg.seed + p.updates, ws);
    return;
  }
  if (!plan.data.test)
    return;
  model_workspace ws;
  const auto& test = *plan.data.test;
  auto ev = plan.net->evaluate(params, test.x, test.y, test.count, ws);
  p.test_loss = ev.loss;
  p.test_accuracy = ev.accuracy;
  p.test_mse = ev.mse;
}

} // namespace tether
