// bench/lm_compute: one worker's compute for the byte-level GPT, one thread, no actors.
//
// The step is what a worker and its shards do for one batch, all local: gather a batch of
// windows of the training text (core/text_corpus.hpp, epoch sampler order), forward and
// backward (gpt_model::loss_and_gradient), and an AdamW step over the whole vector
// (lr 1e-3, betas 0.9/0.99, weight decay 0.1 on the matrices). Figures, each the median
// of interleaved trials, in training tokens per second of the thread's CPU time (batch x
// context per step; CPU time, so that other processes on a shared machine do not count):
//   step       the whole step
//   fwd_bwd    forward + backward alone
//   forward    forward alone (gpt_model::loss)
//   adamw      the optimizer step alone (as tokens/s of the step it belongs to)
//   sgemm      only the step's sgemm calls, the same shapes (the bound: the step can be
//              no faster than its sgemm calls; the causal products of the attention core
//              that core/layer_attention.cpp writes out are not among them)
// bench/lm_run.sh runs it alternately with bench/lm_pytorch.py and prints the ratios.
//
// Usage: lm_compute [--model SPEC] [--batch B] [--trials N] [--seconds S] [--json FILE]
//                   [--steps N]   (--steps: run N whole steps and exit, for a profiler)
#include "bench/machine.hpp"
#include "core/blas.hpp"
#include "core/gpt_model.hpp"
#include "core/optimizer.hpp"
#include "core/sampler.hpp"
#include "core/text_corpus.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using namespace tether;
using clock_type = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// CPU time of the calling thread, in seconds.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Runs `body` repeatedly for `seconds` of wall time; returns calls per second of this
/// thread's CPU time (so that other processes on a shared machine do not count), or per
/// second of wall time when `wall`.
double rate(const std::function<void()>& body, double seconds, bool wall = false) {
  const auto t0 = clock_type::now();
  const double cpu0 = thread_cpu_seconds();
  size_t calls = 0;
  double elapsed = 0;
  do {
    body();
    ++calls;
    elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
  } while (elapsed < seconds);
  const double cpu = thread_cpu_seconds() - cpu0;
  return static_cast<double>(calls) / (wall ? elapsed : cpu);
}

/// One step's matrix products (gpt_model's calls, in its shapes), on scratch buffers.
struct gemm_replay {
  struct call {
    bool ta, tb;
    size_t m, n, k, lda, ldb, ldc;
  };
  std::vector<call> calls;
  std::vector<float> a, b, c;

  explicit gemm_replay(const gpt_config& cfg, size_t batch) {
    const size_t n = batch * cfg.context, c3 = 3 * cfg.embd, e = cfg.embd, m = cfg.mlp_width();
    const size_t t = cfg.context, d = e / cfg.heads, v = gpt_config::vocab;
    auto dense = [&](bool ta, bool tb, size_t rows, size_t cols, size_t inner) {
      calls.push_back({ta, tb, rows, cols, inner, ta ? rows : inner, tb ? inner : cols, cols});
    };
    auto heads = [&](bool ta, bool tb, size_t rows, size_t cols, size_t inner) {
      for (size_t i = 0; i < batch * cfg.heads; ++i)
        calls.push_back({ta, tb, rows, cols, inner, 3 * e, 3 * e, 3 * e});
    };
    for (size_t l = 0; l < cfg.layers; ++l) { // forward
      dense(false, true, n, c3, e);
      heads(false, true, t, t, d); // scores; P V is written out (core/layer_attention.cpp)
      dense(false, true, n, e, e);
      dense(false, true, n, m, e);
      dense(false, true, n, e, m);
    }
    dense(false, true, n, v, e);
    dense(false, false, n, e, v); // backward
    dense(true, false, v, e, n);
    for (size_t l = 0; l < cfg.layers; ++l) {
      dense(false, false, n, m, e);
      dense(true, false, e, m, n);
      dense(false, false, n, e, m);
      dense(true, false, m, e, n);
      dense(false, false, n, e, e);
      dense(true, false, e, e, n);
      heads(false, true, t, t, d); // dP; dV, dQ, dK are written out
      dense(false, false, n, e, c3);
      dense(true, false, c3, e, n);
    }
    size_t biggest = 0;
    for (const auto& x : calls)
      biggest = std::max({biggest, x.m * x.k, x.k * x.n, x.m * x.n, x.m * x.lda, x.k * x.ldb,
                          x.m * x.ldc, x.k * x.lda, x.n * x.ldb});
    a.assign(biggest, 0.01f);
    b.assign(biggest, 0.02f);
    c.assign(biggest, 0.0f);
  }

  void run() {
    for (const auto& x : calls)
      gemm_strided(x.ta, x.tb, x.m, x.n, x.k, 1.0f, a.data(), x.lda, b.data(), x.ldb, 0.0f,
                   c.data(), x.ldc);
  }

  double flops() const {
    double f = 0;
    for (const auto& x : calls)
      f += 2.0 * static_cast<double>(x.m * x.n * x.k);
    return f;
  }
};

} // namespace

int main(int argc, char** argv) {
  tether::restart_with_better_blas(argv); // as the tether binary does
  std::string spec = "gpt:layers=4,heads=4,embd=128,context=64";
  size_t batch = 12, trials = 5, profile_steps = 0;
  double seconds = 2.0;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model")
      spec = next();
    else if (a == "--batch")
      batch = std::stoul(next());
    else if (a == "--trials")
      trials = std::stoul(next());
    else if (a == "--seconds")
      seconds = std::stod(next());
    else if (a == "--json")
      json_path = next();
    else if (a == "--steps")
      profile_steps = std::stoul(next());
    else {
      std::fprintf(stderr, "usage: lm_compute [--model SPEC] [--batch B] [--trials N] "
                           "[--seconds S] [--json FILE] [--steps N]\n");
      return 2;
    }
  }
  use_single_threaded_blas();
  auto cfg = parse_gpt_spec(spec);
  if (!cfg) {
    std::fprintf(stderr, "lm_compute: %s\n", cfg.error().message().c_str());
    return 2;
  }
  auto corpus = load_default_corpus(cfg->context);
  if (!corpus) {
    std::fprintf(stderr, "lm_compute: %s\n", corpus.error().message().c_str());
    return 3;
  }
  auto model = gpt_model::make(*cfg).value();
  const size_t total = model.layout().total;
  std::vector<float> params(total), grad(total);
  model.init_params(params, 1);
  optimizer_config oc;
  oc.kind = optimizer_kind::adamw;
  oc.lr = 1e-3f;
  oc.beta1 = 0.9f;
  oc.beta2 = 0.99f;
  oc.weight_decay = 0.1f;
  range_optimizer opt(oc, key_range{0, total}, model.decayed_ranges());
  const size_t samples = text_sample_count(corpus->train.size(), cfg->context);
  batch_order sampler(samples, batch, 1);
  std::vector<uint8_t> tokens(batch * (cfg->context + 1));
  gpt_workspace ws;
  size_t step_no = 0;
  auto next_batch = [&] {
    const size_t per_epoch = sampler.batches_per_epoch();
    gather_text_batch(corpus->train, cfg->context,
                      sampler.indices(step_no / per_epoch, step_no % per_epoch), tokens);
    ++step_no;
  };
  auto step = [&] {
    next_batch();
    model.loss_and_gradient(params, tokens, batch, grad, ws);
    opt.apply(params, grad, 1e-3f);
  };
  if (profile_steps > 0) {
    for (size_t i = 0; i < profile_steps; ++i)
      step();
    return 0;
  }
  next_batch();
  auto fwd_bwd = [&] { model.loss_and_gradient(params, tokens, batch, grad, ws); };
  auto forward = [&] { model.loss(params, tokens, batch, ws); };
  // On a copy: hundreds of steps with one gradient would drive the model's parameters
  // far off and slow the other figures (huge logits, denormal products).
  std::vector<float> params_copy = params;
  range_optimizer opt_copy = opt;
  auto adamw = [&] { opt_copy.apply(params_copy, grad, 1e-3f); };
  gemm_replay replay(*cfg, batch);
  auto gemms = [&] { replay.run(); };

  std::printf("lm_compute: %s, batch %zu x %zu, %zu parameters, AdamW, 1 thread\n",
              cfg->to_string().c_str(), batch, cfg->context, total);
  std::printf("  %s, OpenBLAS %s kernels; %s; load %s\n", bench::cpu_model().c_str(),
              blas_core_name().c_str(), bench::now_text().c_str(),
              bench::read_first_line("/proc/loadavg").c_str());
  std::printf("  corpus %s: %zu training bytes, %zu windows\n", corpus->source.c_str(),
              corpus->train.size(), samples);
  const char* names[] = {"step", "fwd_bwd", "forward", "adamw", "sgemm"};
  std::vector<std::function<void()>> bodies{step, fwd_bwd, forward, adamw, gemms};
  std::vector<std::vector<double>> rates(bodies.size());
  std::vector<double> wall_steps; // the whole step per second of wall time, for reference
  for (auto& body : bodies)       // warm-up: the workspace grows, caches fill
    rate(body, 0.3);
  for (size_t t = 0; t < trials; ++t) {
    for (size_t i = 0; i < bodies.size(); ++i)
      rates[i].push_back(rate(bodies[i], i == 3 ? seconds / 4 : seconds));
    wall_steps.push_back(rate(step, seconds / 2, true));
  }
  const double tokens_per_step = static_cast<double>(batch * cfg->context);
  std::ofstream js;
  if (!json_path.empty())
    js.open(json_path);
  js << "{\"date\": \"" << bench::now_text() << "\", \"cpu\": \"" << bench::cpu_model()
     << "\", \"model\": \"" << cfg->to_string() << "\", \"batch\": " << batch;
  for (size_t i = 0; i < bodies.size(); ++i) {
    const double calls = median(rates[i]);
    const double tps = calls * tokens_per_step;
    std::printf("  %-8s %10.1f tokens/s  (%.2f ms per step; trials:", names[i], tps, 1e3 / calls);
    for (double r : rates[i])
      std::printf(" %.0f", r * tokens_per_step);
    std::printf(")\n");
    js << ", \"" << names[i] << "\": " << tps;
  }
  std::printf("  step per wall second %.1f tokens/s (the figures above are per CPU second of "
              "this thread)\n",
              median(wall_steps) * tokens_per_step);
  js << ", \"step_wall\": " << median(wall_steps) * tokens_per_step;
  const double gemm_calls = median(rates[4]);
  std::printf("  sgemm: %zu calls, %.1f MFLOP per step, %.1f GFLOP/s\n", replay.calls.size(),
              replay.flops() / 1e6, replay.flops() * gemm_calls / 1e9);
  js << ", \"sgemm_gflops\": " << replay.flops() * gemm_calls / 1e9 << "}\n";
  return 0;
}
