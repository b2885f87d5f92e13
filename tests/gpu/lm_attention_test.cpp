// gpu/lm_attention.cu (cuBLAS products, causal softmax kernels) against core/'s CPU layers
// in double. Skipped without a GPU.
#include "gpu/lm_attention.hpp"

#include "core/layer_attention.hpp"
#include "core/layer_linear.hpp"
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

} // namespace

TEST_CASE("lm linear: forward and backward through cuBLAS match the CPU layer") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context(); // fp32 math: tf32 would need a looser tolerance
  std::mt19937 rng(5);
  const size_t rows = 768, in = 128, out = 384;
  const auto x = normal_floats(rows * in, rng), w = normal_floats(out * in, rng, 0.1f);
  const auto dy = normal_floats(rows * out, rng);
  auto d_x = to_device(x), d_w = to_device(w), d_dy = to_device(dy);
  device_buffer<float> d_y, d_dx;
  require_ok(d_y.resize(rows * out));
  require_ok(d_dx.resize(rows * in));
  auto d_dw = to_device(std::vector<float>(out * in, 0.25f));
  require_ok(lm_linear_forward(ctx->cublas(), d_x.data(), d_w.data(), rows, in, out, d_y.data()));
  require_ok(lm_linear_backward(ctx->cublas(), d_dy.data(), d_x.data(), d_w.data(), rows, in, out,
                                d_dx.data(), d_dw.data()));
  const auto x64 = widen(x), w64 = widen(w), dy64 = widen(dy);
  std::vector<double> y(rows * out), dx(rows * in), dw(out * in, 0.25);
  layers::linear_forward(x64.data(), w64.data(), rows, in, out, y.data());
  layers::linear_backward(dy64.data(), x64.data(), w64.data(), rows, in, out, dx.data(), dw.data());
  CHECK(mismatches("linear y", to_host(*ctx, d_y.data(), y.size()), y, 1e-4, 1e-4) == 0);
  CHECK(mismatches("linear dx", to_host(*ctx, d_dx.data(), dx.size()), dx, 1e-4, 1e-4) == 0);
  CHECK(mismatches("linear dW", to_host(*ctx, d_dw.data(), dw.size()), dw, 1e-3, 1e-4) == 0);
}

TEST_CASE("lm attention: causal softmax core forward and backward match the CPU layer") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(6);
  for (const layers::attention_shape s :
       {layers::attention_shape{12, 64, 4, 128}, layers::attention_shape{3, 37, 2, 32}}) {
    CAPTURE(s.seq);
    const size_t rows = s.batch * s.seq, c = s.channels, pp = s.batch * s.heads * s.seq * s.seq;
    const auto qkv = normal_floats(rows * 3 * c, rng), dout = normal_floats(rows * c, rng);
    auto d_qkv = to_device(qkv), d_dout = to_device(dout);
    device_buffer<float> d_probs, d_out, d_dqkv, d_scratch;
    require_ok(d_probs.resize(pp));
    require_ok(d_out.resize(rows * c));
    require_ok(d_dqkv.resize(rows * 3 * c));
    require_ok(d_scratch.resize(pp));
    require_ok(lm_attention_forward(ctx->cublas(), ctx->stream(), d_qkv.data(), s, d_probs.data(),
                                    d_out.data()));
    require_ok(lm_attention_backward(ctx->cublas(), ctx->stream(), d_dout.data(), d_qkv.data(),
                                     d_probs.data(), s, d_dqkv.data(), d_scratch.data()));
    const auto qkv64 = widen(qkv), dout64 = widen(dout);
    std::vector<double> probs(pp), out(rows * c), dqkv(rows * 3 * c), scratch(s.seq * s.seq);
    layers::attention_forward(qkv64.data(), s, probs.data(), out.data());
    layers::attention_backward(dout64.data(), qkv64.data(), probs.data(), s, dqkv.data(),
                               scratch.data());
    CHECK(mismatches("attention probs", to_host(*ctx, d_probs.data(), pp), probs, 1e-6, 1e-4) == 0);
    CHECK(mismatches("attention out", to_host(*ctx, d_out.data(), out.size()), out, 1e-5, 1e-4) ==
          0);
    CHECK(mismatches("attention dqkv", to_host(*ctx, d_dqkv.data(), dqkv.size()), dqkv, 1e-5,
                     1e-4) == 0);
  }
}
