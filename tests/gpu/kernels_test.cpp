// Each kernel of gpu/kernels.cu against a plain CPU reference, on fresh random inputs.
#include "gpu/kernels.hpp"

#include "gpu_test_support.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
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

void require_ok(const status& st) {
  REQUIRE_MESSAGE(st.is_ok(), st.message());
}

} // namespace

TEST_CASE("gather_rows copies the indexed rows, repeats included") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(1);
  const size_t rows = 1000;
  for (size_t width : {size_t{1}, size_t{784}, size_t{3001}})
    for (size_t batch : {size_t{1}, size_t{64}, size_t{1024}}) {
      CAPTURE(width);
      CAPTURE(batch);
      auto src = normal_floats(rows * width, rng);
      std::vector<uint32_t> idx(batch);
      for (auto& i : idx)
        i = static_cast<uint32_t>(rng() % rows);
      idx[0] = rows - 1; // the last row, and repeats from the modulo
      auto d_src = to_device(src);
      auto d_idx = to_device(idx);
      device_buffer<float> d_out;
      require_ok(d_out.resize(batch * width));
      require_ok(
          gather_rows(d_src.data(), width, d_idx.data(), batch, d_out.data(), ctx->stream()));
      auto out = to_host(*ctx, d_out.data(), batch * width);
      std::vector<double> ref(batch * width);
      for (size_t r = 0; r < batch; ++r)
        for (size_t f = 0; f < width; ++f)
          ref[r * width + f] = src[idx[r] * width + f];
      CHECK(mismatches("gather_rows", out, ref, 0.0, 0.0) == 0);
    }
}

TEST_CASE("add_bias adds the bias per feature, with and without ReLU") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(2);
  for (size_t width : {size_t{10}, size_t{256}, size_t{4096}})
    for (size_t batch : {size_t{64}, size_t{1000}})
      for (bool relu : {false, true}) {
        CAPTURE(width);
        CAPTURE(batch);
        CAPTURE(relu);
        auto z = normal_floats(width * batch, rng);
        auto bias = normal_floats(width, rng);
        auto d_z = to_device(z);
        auto d_b = to_device(bias);
        require_ok(add_bias(d_z.data(), d_b.data(), width, batch, relu, ctx->stream()));
        auto out = to_host(*ctx, d_z.data(), z.size());
        std::vector<double> ref(z.size());
        for (size_t r = 0; r < batch; ++r)
          for (size_t o = 0; o < width; ++o) {
            const float v = z[r * width + o] + bias[o];
            ref[r * width + o] = relu ? std::max(v, 0.0f) : v;
          }
        CHECK(mismatches("add_bias", out, ref, 0.0, 0.0) == 0);
      }
}

TEST_CASE("relu_backward keeps the delta where the activation is positive") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(3);
  for (size_t n : {size_t{1}, size_t{640}, size_t{4096 * 1024 + 3}}) {
    CAPTURE(n);
    auto act = normal_floats(n, rng);
    for (size_t i = 0; i < n; i += 3)
      act[i] = std::max(act[i], 0.0f); // exact zeros, as a ReLU output has
    auto delta = normal_floats(n, rng);
    auto d_act = to_device(act);
    auto d_delta = to_device(delta);
    require_ok(relu_backward(d_delta.data(), d_act.data(), n, ctx->stream()));
    auto out = to_host(*ctx, d_delta.data(), n);
    std::vector<double> ref(n);
    for (size_t i = 0; i < n; ++i)
      ref[i] = act[i] > 0.0f ? delta[i] : 0.0f;
    CHECK(mismatches("relu_backward", out, ref, 0.0, 0.0) == 0);
  }
}

namespace {

struct softmax_reference {
  std::vector<double> delta;
  double loss_sum = 0;
  unsigned correct = 0;
};

softmax_reference softmax_cpu(const std::vector<float>& z, const std::vector<float>& y,
                              size_t classes, size_t batch, float scale) {
  softmax_reference ref;
  ref.delta.resize(z.size());
  for (size_t r = 0; r < batch; ++r) {
    const float* row = z.data() + r * classes;
    const size_t best = static_cast<size_t>(std::max_element(row, row + classes) - row);
    const double max = row[best];
    double sum = 0;
    for (size_t j = 0; j < classes; ++j)
      sum += std::exp(row[j] - max);
    const auto label = static_cast<size_t>(y[r]);
    ref.loss_sum += std::log(sum) - (row[label] - max);
    ref.correct += best == label ? 1 : 0;
    for (size_t j = 0; j < classes; ++j)
      ref.delta[r * classes + j] =
          (std::exp(row[j] - max) / sum - (j == label ? 1.0 : 0.0)) * scale;
  }
  return ref;
}

} // namespace

TEST_CASE("softmax_cross_entropy: delta, loss sum and argmax hits, ties and in place") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(4);
  device_buffer<double> d_loss;
  device_buffer<unsigned> d_correct;
  require_ok(d_loss.resize(1));
  require_ok(d_correct.resize(1));
  for (size_t classes : {size_t{1}, size_t{10}, size_t{33}, size_t{1000}, size_t{4096}})
    for (size_t batch : {size_t{1}, size_t{64}, size_t{777}, size_t{1024}})
      for (bool in_place : {false, true}) {
        CAPTURE(classes);
        CAPTURE(batch);
        CAPTURE(in_place);
        auto z = normal_floats(classes * batch, rng, 3.0f);
        std::vector<float> y(batch);
        for (auto& v : y)
          v = static_cast<float>(rng() % classes);
        // Ties for the largest logit: the first index wins. Some labels hit it, some the later.
        for (size_t r = 0; r < batch && classes >= 2; r += 5) {
          float* row = z.data() + r * classes;
          const float top = *std::max_element(row, row + classes) + 1.0f;
          const size_t a = rng() % (classes - 1), b = a + 1 + rng() % (classes - 1 - a);
          row[a] = row[b] = top;
          y[r] = static_cast<float>(r % 2 ? a : b);
        }
        // A huge logit: exp without the max subtracted would overflow.
        z[0] = 1000.0f;
        const float scale = 1.0f / static_cast<float>(batch);
        auto d_z = to_device(z);
        auto d_y = to_device(y);
        device_buffer<float> d_delta;
        require_ok(d_delta.resize(z.size()));
        float* delta = in_place ? d_z.data() : d_delta.data();
        REQUIRE(cudaMemset(d_loss.data(), 0, sizeof(double)) == cudaSuccess);
        REQUIRE(cudaMemset(d_correct.data(), 0, sizeof(unsigned)) == cudaSuccess);
        require_ok(softmax_cross_entropy(d_z.data(), d_y.data(), classes, batch, scale, delta,
                                         d_loss.data(), d_correct.data(), ctx->stream()));
        auto out = to_host(*ctx, static_cast<const float*>(delta), z.size());
        const double loss = to_host(*ctx, d_loss.data(), 1)[0];
        const unsigned correct = to_host(*ctx, d_correct.data(), 1)[0];
        auto ref = softmax_cpu(z, y, classes, batch, scale);
        CHECK(mismatches("softmax delta", out, ref.delta, 1e-6 * scale, 1e-4) == 0);
        CHECK(std::fabs(loss - ref.loss_sum) <= 1e-6 + 1e-5 * std::fabs(ref.loss_sum));
        CHECK(correct == ref.correct);
      }
}

TEST_CASE("softmax_cross_entropy: an out-of-range label gives a NaN loss, not a crash") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::vector<float> z(2 * 10, 0.5f), y{3.0f, 10.0f};
  auto d_z = to_device(z);
  auto d_y = to_device(y);
  auto d_loss = to_device(std::vector<double>{0.0});
  auto d_correct = to_device(std::vector<unsigned>{0});
  require_ok(softmax_cross_entropy(d_z.data(), d_y.data(), 10, 2, 0.5f, d_z.data(), d_loss.data(),
                                   d_correct.data(), ctx->stream()));
  CHECK(std::isnan(to_host(*ctx, d_loss.data(), 1)[0]));
}

TEST_CASE("squared_error: delta (h - y) * scale and loss sum of (h - y)^2 / 2") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(5);
  for (size_t batch : {size_t{1}, size_t{64}, size_t{1000}, size_t{300001}}) {
    CAPTURE(batch);
    auto h = normal_floats(batch, rng);
    auto y = normal_floats(batch, rng);
    const float scale = 1.0f / static_cast<float>(batch);
    auto d_h = to_device(h);
    auto d_y = to_device(y);
    auto d_loss = to_device(std::vector<double>{0.0});
    device_buffer<float> d_delta;
    require_ok(d_delta.resize(batch));
    require_ok(squared_error(d_h.data(), d_y.data(), batch, scale, d_delta.data(), d_loss.data(),
                             ctx->stream()));
    auto out = to_host(*ctx, d_delta.data(), batch);
    const double loss = to_host(*ctx, d_loss.data(), 1)[0];
    std::vector<double> ref(batch);
    double ref_loss = 0;
    for (size_t r = 0; r < batch; ++r) {
      const float err = h[r] - y[r];
      ref[r] = err * scale;
      ref_loss += 0.5 * static_cast<double>(err) * err;
    }
    CHECK(mismatches("squared_error delta", out, ref, 0.0, 1e-7) == 0);
    CHECK(std::fabs(loss - ref_loss) <= 1e-9 * std::fabs(ref_loss));
  }
}

TEST_CASE("bias_gradient sums the deltas over the batch") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = make_context();
  std::mt19937 rng(6);
  for (size_t width : {size_t{1}, size_t{10}, size_t{33}, size_t{4096}})
    for (size_t batch : {size_t{1}, size_t{7}, size_t{64}, size_t{1024}}) {
      CAPTURE(width);
      CAPTURE(batch);
      // Deltas as the heads make them: O(1) values times 1/batch.
      auto delta = normal_floats(width * batch, rng, 1.0f / static_cast<float>(batch));
      auto d_delta = to_device(delta);
      auto d_grad = to_device(std::vector<float>(width, NAN)); // every element is written
      require_ok(bias_gradient(d_delta.data(), width, batch, d_grad.data(), ctx->stream()));
      auto out = to_host(*ctx, d_grad.data(), width);
      std::vector<double> ref(width, 0.0);
      for (size_t r = 0; r < batch; ++r)
        for (size_t o = 0; o < width; ++o)
          ref[o] += delta[r * width + o];
      CHECK(mismatches("bias_gradient", out, ref, 1e-6, 1e-5) == 0);
    }
}
