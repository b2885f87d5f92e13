// bench/throughput: tether's throughput figures, each beside a baseline measured in the
// same run (figures are ratios, with the machine and the date).
//
//   a. one worker's compute: MLP 784-256-128-10, batch 64, single-threaded BLAS, no
//      actors; fwd+bwd alone, and the whole local step (gather + fwd+bwd + SGD update)
//   b. end-to-end asynchronous training (run_job, 2 shards) with 1 and 2 workers
//   c. shard push+pull throughput (gradient bytes applied per second) through the shard
//      actor and through shard_core::apply alone, against w[i] -= lr * g[i] on the same bytes
//   d. small push+pull round-trip latency through the shard actor (16 floats)
//
// Usage: throughput [--quick] [--data-dir DIR] [--json FILE] [--only abcd] [--threads N]
// (--only picks sections; --only s runs just the shard actor part of c, for profiling;
// --threads sets the CAF scheduler threads of c and d, default as run_job: max(2, cores))
// --quick is the smoke test (a few seconds); the default is the full measurement.
// bench/run.sh runs this and bench/pytorch_baseline.py together and prints the ratios.
#include "actors/job.hpp"
#include "actors/shard.hpp"
#include "bench/machine.hpp"
#include "core/blas.hpp"
#include "core/dataset.hpp"
#include "core/layout.hpp"
#include "core/model.hpp"
#include "core/sampler.hpp"

#include <malloc.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace tether;
using namespace tether::bench;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct options {
  bool quick = false;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string json_path;
  std::string only = "abcd"; ///< the sections to run (--only c: just the shard, for profiling)
  size_t threads = 0;        ///< CAF scheduler threads for c and d; 0: as run_job (max(2, cores))
  bool runs(char section) const { return only.find(section) != std::string::npos; }
};

/// Trials of several measurements, interleaved (trial 1 of each, then trial 2 of each...)
/// so that a change of load on the machine hits a figure and its baseline alike. Each
/// trial runs a body repeatedly for `trial_s` seconds and yields units per second; the
/// median over trials is reported.
struct trial_plan {
  double warmup_s;
  double trial_s;
  int trials;
};

/// bodies: one repetition each, returning the units it did (samples, bytes).
/// Returns the median rate of each body, in order.
std::vector<double> measure(const trial_plan& plan,
                            const std::vector<std::function<double()>>& bodies) {
  for (const auto& body : bodies) {
    auto t0 = clock_type::now();
    while (seconds_since(t0) < plan.warmup_s)
      body();
  }
  std::vector<std::vector<double>> rates(bodies.size());
  for (int t = 0; t < plan.trials; ++t) {
    for (size_t b = 0; b < bodies.size(); ++b) {
      double units = 0;
      auto start = clock_type::now();
      double elapsed = 0;
      do {
        units += bodies[b]();
        elapsed = seconds_since(start);
      } while (elapsed < plan.trial_s);
      rates[b].push_back(units / elapsed);
    }
  }
  std::vector<double> medians;
  for (auto& r : rates)
    medians.push_back(median(r));
  return medians;
}

// -- report ----------------------------------------------------------------------------

std::vector<std::pair<std::string, double>> figures; // for --json

void add(const std::string& key, const std::string& name, double value, const std::string& unit,
         const std::string& baseline = "", double base_value = 0) {
  figures.emplace_back(key, value);
  char ratio[96] = "";
  if (!baseline.empty())
    std::snprintf(ratio, sizeof ratio, "   (%.3fx %s)", base_value > 0 ? value / base_value : 0.0,
                  baseline.c_str());
  std::printf("  %-44s %12.2f %-9s%s\n", name.c_str(), value, unit.c_str(), ratio);
  std::fflush(stdout);
}

// -- a. one worker's compute -----------------------------------------------------------

void bench_compute(const options& opt, const train_test* data) {
  std::printf("a. one worker's compute (mlp:784,256,128,10, batch 64, 1 BLAS thread, no actors)\n");
  auto spec = parse_model_spec("mlp:784,256,128,10");
  auto net = model::make(*spec);
  const size_t batch = 64, total = net->layout().total;
  std::vector<float> params(total), grad(total), x, y;
  net->init_params(params, 1);
  model_workspace ws;

  std::shared_ptr<const dataset> train;
  if (data) {
    train = data->train;
  } else {
    std::printf("  (no Fashion-MNIST: random data)\n");
    auto d = std::make_shared<dataset>();
    d->count = 8192, d->features = 784, d->classes = 10;
    d->x.resize(d->count * d->features), d->y.resize(d->count);
    std::mt19937 gen{1};
    std::uniform_real_distribution<float> u{0.f, 1.f};
    for (auto& v : d->x)
      v = u(gen);
    for (size_t i = 0; i < d->count; ++i)
      d->y[i] = static_cast<float>(i % 10);
    train = d;
  }
  batch_order sampler{train->count, batch, 1};
  size_t step = 0;
  auto next_batch = [&] {
    auto spe = sampler.batches_per_epoch();
    auto idx = sampler.indices(step / spe, step % spe);
    ++step;
    gather_batch(*train, idx, x, y);
  };
  trial_plan plan = opt.quick ? trial_plan{0.2, 0.3, 3} : trial_plan{1.0, 2.0, 5};

  // fwd+bwd only, on 64 fixed batches gathered beforehand (cycled)
  std::vector<std::vector<float>> xs, ys;
  for (int i = 0; i < 64; ++i) {
    next_batch();
    xs.push_back(x), ys.push_back(y);
  }
  size_t k = 0;
  auto fwd_bwd = [&] {
    auto& bx = xs[k % xs.size()];
    auto& by = ys[k % ys.size()];
    ++k;
    net->loss_and_gradient(params, bx, by, batch, grad, ws);
    return static_cast<double>(batch);
  };
  // the whole local step, as PyTorch's training loop does it: batch, fwd+bwd, SGD
  // (on its own copy of the parameters: the fwd+bwd figure keeps the initial ones)
  std::vector<float> step_params = params, step_grad(total);
  model_workspace step_ws;
  const float lr = 0.1f;
  auto local_step = [&] {
    next_batch();
    net->loss_and_gradient(step_params, x, y, batch, step_grad, step_ws);
    float* __restrict p = step_params.data();
    const float* __restrict g = step_grad.data();
    for (size_t i = 0; i < total; ++i)
      p[i] -= lr * g[i];
    return static_cast<double>(batch);
  };
  auto rates = measure(plan, {fwd_bwd, local_step});
  add("compute_fwd_bwd", "compute fwd+bwd", rates[0], "samples/s");
  add("compute_step", "local step (gather + fwd+bwd + SGD)", rates[1], "samples/s");
}

// -- b. end-to-end asynchronous training -----------------------------------------------

void bench_end_to_end(const options& opt) {
  const int runs = opt.quick ? 1 : 5;
  std::printf("b. end-to-end async training (run_job, fashion-mnist, 2 shards, batch 64, SGD 0.1;"
              " median of %d run(s))\n",
              runs);
  double one = 0;
  for (uint32_t workers : {1u, 2u}) {
    std::vector<double> rates;
    for (int run = 0; run < runs; ++run) {
      job_config cfg;
      cfg.data_dir = opt.data_dir;
      cfg.workers = workers;
      cfg.shards = 2;
      cfg.batch = 64;
      cfg.optimizer.kind = optimizer_kind::sgd; // like the PyTorch baselines (not the default Adam)
      cfg.optimizer.lr = 0.1f;
      cfg.epochs = opt.quick ? 1 : 2;
      cfg.limit_train = opt.quick ? 12800 : 0;
      cfg.quiet = true;
      auto dir = std::filesystem::temp_directory_path() /
                 ("tether-bench-" + std::to_string(::getpid()) + "-" + std::to_string(workers));
      cfg.checkpoint_dir = dir.string();
      auto out = run_job(cfg, job_hooks{});
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      if (out.failure != job_failure::none || !out.report) {
        std::printf("  %u worker(s): failed: %s\n", workers, out.message.c_str());
        continue;
      }
      const auto& r = *out.report;
      double sps = r.training_seconds > 0 ? static_cast<double>(r.samples) / r.training_seconds : 0;
      rates.push_back(sps);
      std::printf("    %u worker(s): %llu samples in %.2f s training (%.2f s wall): %.0f samples/s,"
                  " test acc %.4f, mean tau %.2f\n",
                  workers, static_cast<unsigned long long>(r.samples), r.training_seconds,
                  r.wall_seconds, sps, r.final_point.test_accuracy, r.final_point.mean_staleness);
    }
    if (rates.empty())
      continue;
    double sps = median(rates);
    std::string name = "async " + std::to_string(workers) + " worker(s), end to end";
    if (workers == 1) {
      one = sps;
      add("e2e_1w", name, sps, "samples/s");
    } else {
      add("e2e_2w", name, sps, "samples/s", "1 worker", one);
    }
  }
}

// -- c. shard push+pull throughput ------------------------------------------------------

/// Drives a shard with `total` pushes of `n` floats, `window` of them in flight, as a
/// worker does (the gradient is copied into the memory of an earlier reply, so nothing
/// is allocated in steady state; the fused reply is the new slice).
/// Records each round trip (first send to reply) in `latencies_us` when given.
struct drive_result {
  bool record = false;
  double seconds = 0;
  std::vector<double> latencies_us;
};

caf::behavior push_driver(caf::event_based_actor* self, shard_actor shard, size_t n,
                          uint64_t first_clock, uint64_t total, uint32_t window,
                          std::shared_ptr<drive_result> out) {
  auto grad = std::make_shared<std::vector<float>>(n, 1e-6f);
  auto sent = std::make_shared<uint64_t>(0);
  auto done = std::make_shared<uint64_t>(0);
  auto start = clock_type::now();
  auto send_one = std::make_shared<std::function<void()>>();
  auto spare = std::make_shared<std::vector<std::vector<float>>>();
  *send_one = [=] {
    auto clk = first_clock + (*sent)++;
    auto t0 = clock_type::now();
    std::vector<float> buffer;
    if (!spare->empty()) {
      buffer = std::move(spare->back());
      spare->pop_back();
    }
    buffer.assign(grad->begin(), grad->end());
    push_request push{0, clk, clk, 0, std::move(buffer)};
    self->request(shard, std::chrono::seconds(30), push_atom_v, std::move(push))
        .then(
            [=](param_slice& reply) {
              spare->push_back(std::move(reply.values));
              if (out->record)
                out->latencies_us.push_back(
                    std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
              if (++*done == total) {
                out->seconds = seconds_since(start);
                self->quit();
              } else if (*sent < total) {
                (*send_one)();
              }
            },
            [=](caf::error& err) {
              std::printf("  push failed: %s\n", caf::to_string(err).c_str());
              self->quit();
            });
  };
  for (uint32_t i = 0; i < window && *sent < total; ++i)
    (*send_one)();
  return {[](caf::unit_t) {}};
}

/// Runs one driver to completion and returns its result. `clock` is worker 0's next
/// clock at the shard (advanced here): a push with an old clock would be skipped as a
/// duplicate and apply nothing.
std::shared_ptr<drive_result> drive(caf::actor_system& sys, const shard_actor& shard, size_t n,
                                    uint64_t& clock, uint64_t total, uint32_t window, bool record) {
  auto out = std::make_shared<drive_result>();
  out->record = record;
  if (record)
    out->latencies_us.reserve(total);
  caf::scoped_actor self{sys};
  auto d = sys.spawn(push_driver, shard, n, clock, total, window, out);
  clock += total;
  self->wait_for(d);
  return out;
}

shard_actor spawn_shard(caf::actor_system& sys, size_t n) {
  optimizer_config cfg; // SGD, lr 0.1
  shard_core core{0, key_range{0, n}, std::vector<float>(n, 0.f), cfg, consistency_config{}, 1};
  return sys.spawn(shard_behavior, std::move(core));
}

void bench_shard(const options& opt, caf::actor_system& sys) {
  // the shard size of mlp:784,256,128,10 over 2 shards
  auto net = model::make(*parse_model_spec("mlp:784,256,128,10"));
  const size_t n = split_ranges(net->layout().total, 2)[0].size();
  const double bytes = 4.0 * static_cast<double>(n);
  std::printf("c. shard update throughput (%zu floats = %.0f KB per push, SGD lr 0.1)\n", n,
              bytes / 1024);
  trial_plan plan = opt.quick ? trial_plan{0.1, 0.2, 3} : trial_plan{0.5, 1.0, 5};

  std::vector<float> w(n, 0.f), g(n, 1e-6f);
  const float lr = 0.1f;
  std::vector<std::function<double()>> bodies;
  // baseline: the plain update loop over the same bytes
  bodies.push_back([&] {
    float* __restrict wp = w.data();
    const float* __restrict gp = g.data();
    for (size_t i = 0; i < n; ++i)
      wp[i] -= lr * gp[i];
    asm volatile("" : : "r"(wp) : "memory");
    return bytes;
  });
  // shard_core::apply alone, then with the fused reply's copy of the slice
  shard_core core{
      0, key_range{0, n}, std::vector<float>(n, 0.f), optimizer_config{}, consistency_config{}, 1};
  push_request push{0, 0, 0, 0, g};
  bodies.push_back([&] {
    core.push(push);
    ++push.clock;
    return bytes;
  });
  bodies.push_back([&] {
    core.push(push);
    ++push.clock;
    auto s = core.slice();
    asm volatile("" : : "r"(s.values.data()) : "memory");
    return bytes;
  });
  // through the actor: the driver copies a gradient into each push, the shard applies
  // it and replies with its slice, as a worker and a shard do; 1 and 2 pushes in flight
  const uint64_t pushes = opt.quick ? 100 : 500;
  std::vector<shard_actor> shards;
  std::vector<uint64_t> clocks(2, 0);
  for (uint32_t window : {1u, 2u}) {
    shards.push_back(spawn_shard(sys, n));
    bodies.push_back([&, window] {
      drive(sys, shards[window - 1], n, clocks[window - 1], pushes, window, false);
      return bytes * static_cast<double>(pushes);
    });
  }
  if (!opt.runs('c')) // --only s: the actor alone (for profiling)
    bodies.erase(bodies.begin(), bodies.begin() + 3);
  auto rates = measure(plan, bodies);
  for (auto& s : shards)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  double base = 0;
  if (opt.runs('c')) {
    base = rates[0];
    add("add_into_buffer", "baseline: w[i] -= lr*g[i]", base / 1e6, "MB/s");
    add("shard_core_apply", "shard_core::apply alone", rates[1] / 1e6, "MB/s", "add-into-buffer",
        base / 1e6);
    add("shard_core_apply_slice", "shard_core::apply + slice() (reply copy)", rates[2] / 1e6,
        "MB/s", "add-into-buffer", base / 1e6);
    rates.erase(rates.begin(), rates.begin() + 3);
  }
  add("shard_actor_w1", "shard actor push+pull, 1 in flight", rates[0] / 1e6, "MB/s",
      "add-into-buffer", base / 1e6);
  add("shard_actor_w2", "shard actor push+pull, 2 in flight", rates[1] / 1e6, "MB/s",
      "add-into-buffer", base / 1e6);
}

// -- d. small round-trip latency --------------------------------------------------------

void bench_latency(const options& opt, caf::actor_system& sys) {
  const size_t n = 16;
  std::printf("d. push+pull round trip through the shard actor (%zu floats)\n", n);
  auto shard = spawn_shard(sys, n);
  const uint64_t count = opt.quick ? 2000 : 20000;
  uint64_t clock = 0;
  drive(sys, shard, n, clock, count / 10, 1, false); // warm-up
  auto r = drive(sys, shard, n, clock, count, 1, true);
  add("rtt_event_median_us", "event-based driver: median", median(r->latencies_us), "us");
  add("rtt_event_p99_us", "event-based driver: p99", percentile(r->latencies_us, 0.99), "us");

  // a blocking scoped_actor as the client (request(...).receive(...))
  caf::scoped_actor self{sys};
  std::vector<double> lat;
  lat.reserve(count);
  for (uint64_t i = 0; i < count + count / 10; ++i) {
    auto t0 = clock_type::now();
    self->request(shard, std::chrono::seconds(5), push_atom_v,
                  push_request{0, clock++, 0, 0, std::vector<float>(n, 1e-6f)})
        .receive([&](const param_slice&) {}, [&](caf::error&) {});
    if (i >= count / 10)
      lat.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
  add("rtt_scoped_median_us", "scoped_actor client: median", median(lat), "us");
  add("rtt_scoped_p99_us", "scoped_actor client: p99", percentile(lat, 0.99), "us");
  self->send_exit(shard, caf::exit_reason::user_shutdown);
}

} // namespace

int main(int argc, char** argv) {
  // The same heap policy as the tether binary (cli/main.cpp): no mmap/trim per slice.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--data-dir" && i + 1 < argc) {
      opt.data_dir = argv[++i];
    } else if (a == "--json" && i + 1 < argc) {
      opt.json_path = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      opt.threads = std::stoul(argv[++i]);
    } else if (a == "--only" && i + 1 < argc) {
      opt.only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: throughput [--quick] [--data-dir DIR] [--json FILE] [--only "
                           "abcd] [--threads N]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  use_single_threaded_blas();
  auto cores = std::thread::hardware_concurrency();
  std::printf("tether throughput bench (%s)\n", opt.quick ? "quick" : "full");
  std::printf("machine: %s, %u cores; load average: %s\ndate: %s\n\n", cpu_model().c_str(), cores,
              read_first_line("/proc/loadavg").c_str(), now_text().c_str());

  result<train_test> data = status{errc::not_found, "not asked for"};
  if (opt.runs('a') || opt.runs('b'))
    data = load_idx_dir(opt.data_dir);
  if (opt.runs('a'))
    bench_compute(opt, data ? &data.value() : nullptr);
  if (opt.runs('b') && data)
    bench_end_to_end(opt);
  else if (opt.runs('b'))
    std::printf("b. skipped: %s\n", data.error().message().c_str());
  if (opt.runs('c') || opt.runs('s') || opt.runs('d')) {
    caf::actor_system_config cfg;
    auto threads = opt.threads ? opt.threads : std::max<size_t>(2, cores);
    cfg.set("scheduler.max-threads", threads);
    std::printf("(sections c and d: %zu CAF scheduler threads)\n", threads);
    cfg.add_message_types<caf::id_block::tether>();
    caf::actor_system sys{cfg};
    if (opt.runs('c') || opt.runs('s'))
      bench_shard(opt, sys);
    if (opt.runs('d'))
      bench_latency(opt, sys);
  }

  if (!opt.json_path.empty()) {
    std::ofstream js{opt.json_path};
    js << "{\n  \"machine\": \"" << cpu_model() << "\", \"cores\": " << cores << ", \"date\": \""
       << now_text() << "\", \"quick\": " << (opt.quick ? "true" : "false");
    for (const auto& [k, v] : figures)
      js << ",\n  \"" << k << "\": " << v;
    js << "\n}\n";
  }
  return 0;
}
