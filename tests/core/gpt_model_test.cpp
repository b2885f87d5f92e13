#include "core/gpt_model.hpp"

#include "core/blas.hpp"
#include "core/optimizer.hpp"
#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

// Counts every allocation of this test binary, so a test can show that training steps
// allocate nothing once the workspace has grown.
namespace {
std::atomic<size_t> allocations{0};
}
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

using namespace tether;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

namespace {

gpt_model make_model(const gpt_config& cfg) {
  auto m = gpt_model::make(cfg);
  REQUIRE(m.is_ok());
  return std::move(m).value();
}

std::vector<uint8_t> some_text(size_t n) {
  const std::string line = "Q: What is the answer?\nA: Forty-two, of course.\n%\n";
  std::vector<uint8_t> out;
  while (out.size() < n)
    out.push_back(static_cast<uint8_t>(line[out.size() % line.size()]));
  return out;
}

} // namespace

TEST_CASE("gpt model: the whole model's gradient matches finite differences (double)") {
  gpt_config cfg;
  cfg.layers = 2;
  cfg.heads = 2;
  cfg.embd = 4;
  cfg.context = 3;
  cfg.mlp = 6;
  const auto layout = gpt_layout(cfg);
  const size_t batch = 2;
  const uint8_t tokens[] = {5, 200, 5, 7, 9, 5, 5, 200}; // 2 windows of context + 1
  auto params = random_values(layout.total, 7, 0.5);
  gpt_activations<double> ws;
  ws.reserve(cfg, batch);
  auto loss = [&] {
    return gpt_forward_backward<double>(cfg, layout, params.data(), tokens, cfg.context + 1, batch,
                                        cfg.context, true, nullptr, ws) /
           static_cast<double>(batch * cfg.context);
  };
  std::vector<double> grad(layout.total);
  const double sum =
      gpt_forward_backward<double>(cfg, layout, params.data(), tokens, cfg.context + 1, batch,
                                   cfg.context, true, grad.data(), ws);
  CHECK(sum / static_cast<double>(batch * cfg.context) == doctest::Approx(loss()));
  // The embedding rows of bytes not in the batch still get the tied head's gradient.
  CHECK(grad[layout.tensors[0].offset + 100 * cfg.embd] != 0.0);
  CHECK(max_relative_error(params, grad, loss) <= fd_tolerance);
}

TEST_CASE("gpt model: loss and gradients equal PyTorch's on the committed fixture") {
  // tests/core/fixtures/make_gpt_fixture.py wrote it (PyTorch, float64 reference).
  std::ifstream in{TETHER_SOURCE_DIR "/tests/core/fixtures/gpt_tiny.bin", std::ios::binary};
  REQUIRE(in);
  char magic[8];
  in.read(magic, 8);
  REQUIRE(std::memcmp(magic, "TGPTFIX1", 8) == 0);
  uint32_t dims[6];
  in.read(reinterpret_cast<char*>(dims), sizeof dims);
  double want_loss = 0;
  in.read(reinterpret_cast<char*>(&want_loss), sizeof want_loss);
  gpt_config cfg;
  cfg.layers = dims[0];
  cfg.heads = dims[1];
  cfg.embd = dims[2];
  cfg.context = dims[3];
  cfg.mlp = dims[4];
  const size_t batch = dims[5];
  std::vector<uint8_t> tokens(batch * (cfg.context + 1));
  in.read(reinterpret_cast<char*>(tokens.data()), static_cast<std::streamsize>(tokens.size()));
  uint32_t total = 0;
  in.read(reinterpret_cast<char*>(&total), sizeof total);
  const auto model = make_model(cfg);
  REQUIRE(total == model.layout().total);
  std::vector<float> params(total);
  std::vector<double> want_grad(total);
  in.read(reinterpret_cast<char*>(params.data()), total * sizeof(float));
  in.read(reinterpret_cast<char*>(want_grad.data()), total * sizeof(double));
  REQUIRE(in);

  use_single_threaded_blas();
  gpt_workspace ws;
  std::vector<float> grad(total);
  const float loss = model.loss_and_gradient(params, tokens, batch, grad, ws);
  CHECK(std::abs(loss - want_loss) <= 1e-5 * want_loss);
  for (const auto& t : model.layout().tensors) {
    double diff = 0, norm = 0;
    for (size_t i = t.offset; i < t.offset + t.size; ++i) {
      diff += (grad[i] - want_grad[i]) * (grad[i] - want_grad[i]);
      norm += want_grad[i] * want_grad[i];
    }
    INFO(t.name);
    CHECK(norm > 0);
    CHECK(std::sqrt(diff / norm) <= 1e-4);
  }
  // The double path reproduces the float64 reference to rounding.
  std::vector<double> params64(params.begin(), params.end()), grad64(total);
  gpt_activations<double> ws64;
  ws64.reserve(cfg, batch);
  const double sum64 =
      gpt_forward_backward<double>(cfg, model.layout(), params64.data(), tokens.data(),
                                   cfg.context + 1, batch, cfg.context, true, grad64.data(), ws64);
  CHECK(sum64 / static_cast<double>(batch * cfg.context) ==
        doctest::Approx(want_loss).epsilon(1e-12));
}

TEST_CASE("gpt model: steady-state steps allocate nothing") {
  use_single_threaded_blas();
  gpt_config cfg; // every layer of the default model, smaller (CI time)
  cfg.layers = 2;
  cfg.embd = 64;
  cfg.context = 32;
  const auto model = make_model(cfg);
  const size_t batch = 2;
  std::vector<float> params(model.layout().total), grad(params.size());
  model.init_params(params, 1);
  const auto text = some_text(batch * (model.config().context + 1));
  range_optimizer opt({optimizer_kind::adamw, 1e-3f, 0.1f}, {0, params.size()},
                      model.decayed_ranges());
  gpt_workspace ws;
  auto step = [&] {
    model.loss_and_gradient(params, text, batch, grad, ws);
    clip_by_global_norm(grad, 1.0);
    opt.apply(params, grad, 1e-3f);
  };
  step(); // the workspace grows here
  const size_t before = allocations.load();
  for (int i = 0; i < 3; ++i)
    step();
  CHECK(allocations.load() == before);
  CHECK(ws.held_bytes() == gpt_workspace::bytes(model.config(), batch));
}

TEST_CASE("gpt model: init is N(0, 0.02) for matrices, 1 and 0 for LayerNorm, seeded") {
  const auto model = make_model(gpt_config{});
  std::vector<float> a(model.layout().total), b(a.size()), c(a.size());
  model.init_params(a, 5);
  model.init_params(b, 5);
  model.init_params(c, 6);
  CHECK(a == b);
  CHECK(a != c);
  double sum = 0, sq = 0;
  size_t n = 0;
  for (const auto& t : model.layout().tensors) {
    for (size_t i = t.offset; i < t.offset + t.size; ++i) {
      if (t.shape.size() == 2) {
        sum += a[i];
        sq += double{a[i]} * a[i];
        ++n;
      } else {
        CHECK(a[i] == (t.name.ends_with(".weight") ? 1.0f : 0.0f));
      }
    }
  }
  CHECK(std::abs(sum / n) < 1e-4);
  CHECK(std::sqrt(sq / n) == doctest::Approx(0.02).epsilon(0.01));
}

TEST_CASE("gpt model: evaluate averages every window, or a fixed spread sample") {
  use_single_threaded_blas();
  gpt_config cfg;
  cfg.layers = 1;
  cfg.embd = 16;
  cfg.context = 8;
  const auto model = make_model(cfg);
  std::vector<float> params(model.layout().total);
  model.init_params(params, 2);
  gpt_workspace ws;
  const auto text = some_text(8 * 20 + 1 + 3); // 20 windows and 3 spare bytes
  const auto all = model.evaluate(params, text, 0, ws);
  CHECK(all.windows == 20);
  CHECK(all.tokens == 160);
  // The same as the mean of the losses of the windows, one at a time.
  double sum = 0;
  for (size_t k = 0; k < 20; ++k)
    sum += model.loss(params, std::span(text).subspan(k * 8, 9), 1, ws);
  CHECK(all.loss == doctest::Approx(sum / 20).epsilon(1e-6));
  CHECK(all.bits_per_byte == doctest::Approx(all.loss / std::log(2.0)));
  CHECK(all.loss == doctest::Approx(std::log(256.0)).epsilon(0.02)); // untrained: uniform

  const auto sample = model.evaluate(params, text, 5, ws); // windows 0, 4, 8, 12, 16
  CHECK(sample.windows == 5);
  double sample_sum = 0;
  for (size_t k : {0, 4, 8, 12, 16})
    sample_sum += model.loss(params, std::span(text).subspan(k * 8, 9), 1, ws);
  CHECK(sample.loss == doctest::Approx(sample_sum / 5).epsilon(1e-6));

  const auto none = model.evaluate(params, std::span(text).first(8), 0, ws);
  CHECK(none.windows == 0);
}

TEST_CASE("gpt model: the memory estimate is what the workspace holds") {
  const gpt_config cfg;
  const auto m = gpt_memory_estimate(cfg, 12, 2);
  const size_t total = gpt_layout(cfg).total;
  CHECK(m.params == 4 * total);
  CHECK(m.optimizer_state == 8 * total);
  gpt_workspace ws;
  ws.reserve(cfg, 12);
  CHECK(m.worker_activations == ws.held_bytes());
  CHECK(m.per_worker() == m.params + m.gradient + m.worker_activations);
}
