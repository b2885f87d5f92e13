// gpu/lm_kernels.cu against the CPU layers of core/ (run in double as the reference), with
// the tolerance tol + |ref| * eps; the first mismatches are printed. Skipped without a GPU.
#include "gpu/lm_kernels.hpp"

#include "core/layer_embedding.hpp"
#include "core/layer_gelu.hpp"
#include "core/layer_norm.hpp"
#include "core/layer_tied_head.hpp"
#include "gpu_test_support.hpp"

#include <random>

using namespace tether;
using namespace tether::gpu;
using namespace tether::gpu::test;

namespace {

std::vector<float> normal_floats(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v)
    x = normal(rng);
  return v;
}

std::vector<double> widen(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

void require_ok(const status& st) {
  REQUIRE_MESSAGE(st.is_ok(), st.message());
}

std::vector<uint8_t> random_bytes(size_t n, std::mt19937& rng) {
  std::vector<uint8_t> v(n);
  for (auto& b : v)
    b = static_cast<uint8_t>(rng() % 256);
  v[0] = v[1] = 42; // a repeated byte: its gradient rows add up
  return v;
}

} // namespace

TEST_CASE("lm embedding: gather forward and scatter-add backward match the CPU layer") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(1);
  const size_t batch = 12, seq = 64, stride = 65, c = 128;
  const auto tokens = random_bytes(batch * stride, rng);
  const auto wte = normal_floats(256 * c, rng), wpe = normal_floats(seq * c, rng);
  const auto dout = normal_floats(batch * seq * c, rng);
  auto d_tokens = to_device(tokens);
  auto d_wte = to_device(wte), d_wpe = to_device(wpe), d_dout = to_device(dout);
  device_buffer<float> d_out;
  require_ok(d_out.resize(batch * seq * c));
  require_ok(lm_embedding_forward(d_tokens.data(), stride, batch, seq, d_wte.data(), d_wpe.data(),
                                  c, d_out.data(), ctx->stream()));
  auto out = to_host(*ctx, d_out.data(), batch * seq * c);
  std::vector<double> ref(out.size());
  const auto wte64 = widen(wte), wpe64 = widen(wpe);
  layers::embedding_forward(tokens.data(), stride, batch, seq, wte64.data(), wpe64.data(), c,
                            ref.data());
  CHECK(mismatches("embedding forward", out, ref, 0.0, 1e-6) == 0);

  auto d_dwte = to_device(std::vector<float>(256 * c, 0.5f));
  auto d_dwpe = to_device(std::vector<float>(seq * c, 0.0f));
  require_ok(lm_embedding_backward(d_tokens.data(), stride, batch, seq, d_dout.data(), c,
                                   d_dwte.data(), d_dwpe.data(), ctx->stream()));
  auto dwte = to_host(*ctx, d_dwte.data(), 256 * c);
  auto dwpe = to_host(*ctx, d_dwpe.data(), seq * c);
  std::vector<double> ref_dwte(256 * c, 0.5), ref_dwpe(seq * c, 0.0);
  const auto dout64 = widen(dout);
  layers::embedding_backward(tokens.data(), stride, batch, seq, dout64.data(), c, ref_dwte.data(),
                             ref_dwpe.data());
  CHECK(mismatches("embedding dwte", dwte, ref_dwte, 1e-5, 1e-5) == 0);
  CHECK(mismatches("embedding dwpe", dwpe, ref_dwpe, 1e-5, 1e-5) == 0);
}

TEST_CASE("lm layer norm: forward and backward match the CPU layer") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(2);
  for (size_t c : {size_t{128}, size_t{77}}) {
    CAPTURE(c);
    const size_t rows = 768;
    const auto x = normal_floats(rows * c, rng, 2.0f), gain = normal_floats(c, rng);
    const auto bias = normal_floats(c, rng), dout = normal_floats(rows * c, rng);
    auto d_x = to_device(x), d_gain = to_device(gain), d_bias = to_device(bias);
    auto d_dout = to_device(dout);
    device_buffer<float> d_out, d_mean, d_rstd;
    require_ok(d_out.resize(rows * c));
    require_ok(d_mean.resize(rows));
    require_ok(d_rstd.resize(rows));
    require_ok(lm_layer_norm_forward(d_x.data(), d_gain.data(), d_bias.data(), rows, c,
                                     d_out.data(), d_mean.data(), d_rstd.data(), ctx->stream()));
    const auto x64 = widen(x), gain64 = widen(gain), bias64 = widen(bias), dout64 = widen(dout);
    std::vector<double> ref(rows * c), mean(rows), rstd(rows);
    layers::layer_norm_forward(x64.data(), gain64.data(), bias64.data(), rows, c, ref.data(),
                               mean.data(), rstd.data());
    CHECK(mismatches("layer norm out", to_host(*ctx, d_out.data(), rows * c), ref, 1e-5, 1e-5) ==
          0);

    auto d_dx = to_device(std::vector<float>(rows * c, 1.0f));
    auto d_dgain = to_device(std::vector<float>(c, 0.0f));
    auto d_dbias = to_device(std::vector<float>(c, 0.0f));
    require_ok(lm_layer_norm_backward(d_dout.data(), d_x.data(), d_gain.data(), d_mean.data(),
                                      d_rstd.data(), rows, c, d_dx.data(), d_dgain.data(),
                                      d_dbias.data(), ctx->stream()));
    std::vector<double> dx(rows * c, 1.0), dgain(c, 0.0), dbias(c, 0.0);
    layers::layer_norm_backward(dout64.data(), x64.data(), gain64.data(), mean.data(), rstd.data(),
                                rows, c, dx.data(), dgain.data(), dbias.data());
    CHECK(mismatches("layer norm dx", to_host(*ctx, d_dx.data(), rows * c), dx, 1e-5, 1e-4) == 0);
    CHECK(mismatches("layer norm dgain", to_host(*ctx, d_dgain.data(), c), dgain, 1e-3, 1e-4) == 0);
    CHECK(mismatches("layer norm dbias", to_host(*ctx, d_dbias.data(), c), dbias, 1e-3, 1e-4) == 0);
  }
}

TEST_CASE("lm gelu: forward and backward (in place) match the CPU layer") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(3);
  const size_t n = 768 * 512 + 3;
  const auto x = normal_floats(n, rng, 3.0f), dy = normal_floats(n, rng);
  auto d_x = to_device(x), d_dy = to_device(dy);
  device_buffer<float> d_y;
  require_ok(d_y.resize(n));
  require_ok(lm_gelu_forward(d_x.data(), n, d_y.data(), ctx->stream()));
  require_ok(lm_gelu_backward(d_x.data(), d_dy.data(), n, d_dy.data(), ctx->stream()));
  const auto x64 = widen(x);
  std::vector<double> y(n), dx = widen(dy);
  layers::gelu_forward(x64.data(), n, y.data());
  layers::gelu_backward(x64.data(), dx.data(), n, dx.data());
  CHECK(mismatches("gelu", to_host(*ctx, d_y.data(), n), y, 1e-6, 1e-5) == 0);
  CHECK(mismatches("gelu backward", to_host(*ctx, d_dy.data(), n), dx, 1e-6, 1e-5) == 0);
}

TEST_CASE("lm cross-entropy: loss and gradient over 256 bytes match the CPU layer") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(4);
  const size_t batch = 12, seq = 64, stride = 65, rows = batch * seq;
  const auto logits = normal_floats(rows * 256, rng, 4.0f);
  const auto targets = random_bytes(batch * stride, rng);
  auto d_logits = to_device(logits);
  auto d_targets = to_device(targets);
  auto d_loss = to_device(std::vector<double>{0.0});
  const float scale = 1.0f / static_cast<float>(rows);
  require_ok(lm_cross_entropy(d_logits.data(), d_targets.data() + 1, stride, batch, seq, true,
                              scale, d_loss.data(), ctx->stream()));
  auto grad = to_host(*ctx, d_logits.data(), rows * 256);
  auto loss = to_host(*ctx, d_loss.data(), 1);
  auto ref = widen(logits);
  const double ref_loss = layers::cross_entropy(ref.data(), targets.data() + 1, stride, batch, seq,
                                                size_t{256}, true, double{scale});
  CHECK(loss[0] == doctest::Approx(ref_loss).epsilon(1e-5));
  CHECK(mismatches("cross-entropy gradient", grad, ref, 1e-9, 1e-4) == 0);
}
