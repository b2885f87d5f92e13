// bench/lm_train: trains the byte-level GPT locally (one thread, no actors) in the issue's
// reference setup, to show that the model and the optimizer learn as they should:
// batch 12 x 64, AdamW lr 1e-3, betas (0.9, 0.99), weight decay 0.1, constant lr, no
// clipping, 2000 steps; validation loss = mean over 50 random validation batches (12
// windows of 65 bytes at random offsets, drawn once from a fixed seed) at 250, 1000 and
// 2000 steps, and gpt_model::evaluate's fixed sample (600 windows) beside it. Training
// batches come from the epoch sampler over the training windows, as a worker's do.
// bench/lm_pytorch.py --mode train is the PyTorch reference (random training windows).
//
// Usage: lm_train [--steps N] [--decay all|matrices] [--clip X] [--warmup N]
//                 [--cosine-floor LR] [--seed N] [--json FILE]
//   --decay all      weight decay on every parameter, as the reference (default)
//   --decay matrices the model's own choice (gpt_model::decayed_ranges)
//   --warmup, --cosine-floor: tether's own schedule (cosine from lr to the floor)
#include "bench/machine.hpp"
#include "core/blas.hpp"
#include "core/gpt_model.hpp"
#include "core/optimizer.hpp"
#include "core/sampler.hpp"
#include "core/splitmix64.hpp"
#include "core/text_corpus.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace tether;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  tether::restart_with_better_blas(argv); // as the tether binary does
  size_t steps = 2000;
  std::string decay = "all", json_path;
  double clip = 0, floor = -1;
  uint64_t warmup = 0, seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string("0"); };
    if (a == "--steps")
      steps = std::stoul(next());
    else if (a == "--decay")
      decay = next();
    else if (a == "--clip")
      clip = std::stod(next());
    else if (a == "--warmup")
      warmup = std::stoul(next());
    else if (a == "--cosine-floor")
      floor = std::stod(next());
    else if (a == "--seed")
      seed = std::stoul(next());
    else if (a == "--json")
      json_path = next();
    else {
      std::fprintf(stderr, "usage: lm_train [--steps N] [--decay all|matrices] [--clip X] "
                           "[--warmup N] [--cosine-floor LR] [--seed N] [--json FILE]\n");
      return 2;
    }
  }
  if (decay != "all" && decay != "matrices") {
    std::fprintf(stderr, "lm_train: --decay must be all or matrices, not \"%s\"\n", decay.c_str());
    return 2;
  }
  use_single_threaded_blas();
  const gpt_config cfg; // the default model
  const size_t batch = 12, t = cfg.context;
  auto corpus = load_default_corpus(t);
  if (!corpus) {
    std::fprintf(stderr, "lm_train: %s\n", corpus.error().message().c_str());
    return 3;
  }
  const auto model = gpt_model::make(cfg).value();
  const size_t total = model.layout().total;
  std::vector<float> params(total), grad(total);
  model.init_params(params, seed);
  optimizer_config oc;
  oc.kind = optimizer_kind::adamw;
  oc.lr = 1e-3f;
  oc.beta1 = 0.9f;
  oc.beta2 = 0.99f;
  oc.weight_decay = 0.1f;
  oc.warmup = warmup;
  if (floor >= 0) {
    oc.schedule = lr_schedule::cosine;
    oc.total_updates = steps;
    oc.lr_floor = static_cast<float>(floor);
  }
  const std::vector<key_range> everything{{0, total}};
  range_optimizer opt(oc, key_range{0, total},
                      decay == "all" ? everything : model.decayed_ranges());

  // 50 validation batches at random offsets, drawn once.
  splitmix64 vrng{1234};
  std::vector<std::vector<uint8_t>> val(50, std::vector<uint8_t>(batch * (t + 1)));
  for (auto& b : val)
    for (size_t i = 0; i < batch; ++i) {
      const size_t start = vrng.below(corpus->valid.size() - t - 1);
      std::copy_n(corpus->valid.data() + start, t + 1, b.data() + i * (t + 1));
    }

  batch_order sampler(text_sample_count(corpus->train.size(), t), batch, seed);
  std::vector<uint8_t> tokens(batch * (t + 1));
  gpt_workspace ws;
  std::printf("lm_train: %s, batch %zu x %zu, AdamW lr 1e-3 betas (0.9, 0.99) wd 0.1 on %s, "
              "%s, clip %g, %zu steps\n",
              cfg.to_string().c_str(), batch, t, decay == "all" ? "every parameter" : "matrices",
              floor >= 0 ? "cosine to a floor" : "constant lr", clip, steps);
  std::printf("  %s, OpenBLAS %s kernels; %s; load %s\n", bench::cpu_model().c_str(),
              blas_core_name().c_str(), bench::now_text().c_str(),
              bench::read_first_line("/proc/loadavg").c_str());
  std::ofstream js;
  if (!json_path.empty())
    js.open(json_path);
  js << "{\"curve\": {";
  double train_s = 0;
  double recent = 0;
  const char* sep = "";
  for (size_t step = 1; step <= steps; ++step) {
    const auto t0 = clock_type::now();
    const size_t k = step - 1, per_epoch = sampler.batches_per_epoch();
    gather_text_batch(corpus->train, t, sampler.indices(k / per_epoch, k % per_epoch),
                      tokens);
    const float loss = model.loss_and_gradient(params, tokens, batch, grad, ws);
    if (clip > 0)
      clip_by_global_norm(grad, clip);
    opt.apply(params, grad, lr_at(oc, k));
    train_s += std::chrono::duration<double>(clock_type::now() - t0).count();
    recent = step == 1 ? loss : 0.98 * recent + 0.02 * loss;
    if (step == 250 || step == 1000 || step == 2000 || step == steps) {
      double v = 0;
      for (const auto& b : val)
        v += model.loss(params, b, batch, ws);
      v /= static_cast<double>(val.size());
      const auto fixed = model.evaluate(params, corpus->valid, gpt_eval_windows, ws);
      std::printf("  step %5zu  train loss %.4f  valid %.4f nats/byte (%.3f bits)  fixed sample "
                  "%.4f  %.0f tokens/s [%.1f s training]\n",
                  step, recent, v, v / std::log(2.0), fixed.loss,
                  static_cast<double>(step * batch * t) / train_s, train_s);
      std::fflush(stdout);
      js << sep << "\"" << step << "\": " << v;
      sep = ", ";
    }
  }
  const auto sample = model.generate(params, "Q: ", 160, 0.8f, 40, 7, ws);
  std::printf("  sample (temperature 0.8, top-k 40): Q: %s\n", sample.c_str());
  js << "}, \"tokens_per_s\": " << static_cast<double>(steps * batch * t) / train_s
     << ", \"train_seconds\": " << train_s << "}\n";
  return 0;
}
