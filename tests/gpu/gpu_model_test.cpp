// gpu/gpu_model.hpp: a whole step on the GPU against model::loss_and_gradient on the CPU.
#include "gpu/gpu_model.hpp"

#include "core/blas.hpp"
#include "gpu_test_support.hpp"

#include <cmath>
#include <random>

using namespace tether;
using namespace tether::gpu;

namespace {

model make_model(const std::string& text) {
  auto spec = parse_model_spec(text);
  REQUIRE(spec.is_ok());
  auto m = model::make(*spec);
  REQUIRE(m.is_ok());
  return std::move(m).value();
}

/// A training set that fits `m`: pixels in [0, 1] and class labels for softmax heads,
/// N(0, 1) features and targets for the linear model.
dataset make_data(const model& m, size_t count, std::mt19937& rng) {
  dataset d;
  d.count = count;
  d.features = m.inputs();
  const bool classify = m.head() == model_head::softmax_cross_entropy;
  d.classes = classify ? m.outputs() : 0;
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  d.x.resize(count * d.features);
  for (auto& v : d.x)
    v = classify ? pixel(rng) : normal(rng);
  d.y.resize(count);
  for (auto& v : d.y)
    v = classify ? static_cast<float>(rng() % m.outputs()) : normal(rng);
  return d;
}

/// init_params, plus small non-zero biases so that the bias paths count.
std::vector<float> make_params(const model& m, std::mt19937& rng) {
  std::vector<float> p(m.layout().total);
  m.init_params(p, 3);
  std::uniform_real_distribution<float> small(-0.1f, 0.1f);
  for (size_t t = 1; t < m.layout().tensors.size(); t += 2)
    for (size_t i = 0; i < m.layout().tensors[t].size; ++i)
      p[m.layout().tensors[t].offset + i] = small(rng);
  return p;
}

std::vector<uint32_t> make_indices(size_t batch, size_t count, std::mt19937& rng) {
  std::vector<uint32_t> idx(batch);
  for (auto& i : idx)
    i = static_cast<uint32_t>(rng() % count);
  return idx;
}

struct cpu_step {
  float loss = 0;
  std::vector<float> grad;
  size_t correct = 0;
};

cpu_step cpu_reference(const model& m, const dataset& d, const std::vector<float>& params,
                       const std::vector<uint32_t>& idx) {
  std::vector<float> x, y;
  for (auto i : idx) {
    x.insert(x.end(), d.x.begin() + i * d.features, d.x.begin() + (i + 1) * d.features);
    y.push_back(d.y[i]);
  }
  cpu_step out;
  out.grad.resize(params.size());
  model_workspace ws;
  out.loss = m.loss_and_gradient(params, x, y, idx.size(), out.grad, ws);
  const auto ev = m.evaluate(params, x, y, idx.size(), ws);
  out.correct = static_cast<size_t>(std::lround(ev.accuracy * static_cast<double>(idx.size())));
  return out;
}

void require_ok(const status& st) {
  REQUIRE_MESSAGE(st.is_ok(), st.message());
}

} // namespace

TEST_CASE("gpu_model::step matches model::loss_and_gradient, fp32 and tf32") {
  TETHER_GPU_REQUIRE_DEVICE();
  use_single_threaded_blas();
  for (const char* text : {"mlp:784,256,128,10", "softmax:784,10", "linear:20,1"})
    for (auto math : {gpu_math::fp32, gpu_math::tf32}) {
      const std::string name = text, math_name = to_string(math);
      CAPTURE(name);
      CAPTURE(math_name);
      std::mt19937 rng(11);
      auto m = make_model(text);
      auto data = make_data(m, 2000, rng);
      auto params = make_params(m, rng);
      auto ctx = test::make_context(math);
      auto gm = gpu_model::create(*ctx, m, data, 1024);
      REQUIRE_MESSAGE(gm.is_ok(), (gm.is_ok() ? std::string{} : gm.error().message()));
      // 64 is the case that matters; 1 and 1024 check the edges and buffer reuse.
      for (size_t batch : {size_t{64}, size_t{1}, size_t{1024}, size_t{64}}) {
        CAPTURE(batch);
        auto idx = make_indices(batch, data.count, rng);
        auto ref = cpu_reference(m, data, params, idx);
        std::vector<float> grad(params.size(), NAN);
        auto loss = (*gm)->step(params, idx, grad);
        REQUIRE_MESSAGE(loss.is_ok(), (loss.is_ok() ? std::string{} : loss.error().message()));
        const double rel = test::relative_l2(grad, ref.grad);
        const double loss_rel = std::fabs(*loss - ref.loss) / std::max(1e-30f, std::fabs(ref.loss));
        MESSAGE(name << " " << math_name << " batch " << batch << ": gradient relative L2 " << rel
                     << ", loss " << *loss << " vs " << ref.loss << " (relative " << loss_rel
                     << ")");
        // TF32 rounds the inputs of every product to 10 mantissa bits (about 5e-4).
        const bool fp32 = math == gpu_math::fp32;
        CHECK(rel <= (fp32 ? 1e-4 : 1e-2));
        CHECK(loss_rel <= (fp32 ? 1e-4 : 1e-3));
        if (fp32 && m.head() == model_head::softmax_cross_entropy) {
          // argmax ties broken differently by rounding could move one sample, no more
          const auto hits = static_cast<long>((*gm)->last_correct());
          CHECK(std::labs(hits - static_cast<long>(ref.correct)) <= 1);
        }
        if (fp32 && batch == 1) {
          // Element by element too, where one sample makes the whole gradient (at larger
          // batches a ReLU input within rounding of 0 may flip one sample's mask: L2 only).
          std::vector<double> ref64(ref.grad.begin(), ref.grad.end());
          double largest = 0;
          for (double v : ref64)
            largest = std::max(largest, std::fabs(v));
          CHECK(test::mismatches("batch-1 gradient", grad, ref64, 1e-5 * largest, 1e-3) == 0);
        }
      }
    }
}

TEST_CASE("gpu_model: the asynchronous calls with pinned memory equal step, bit for bit") {
  TETHER_GPU_REQUIRE_DEVICE();
  std::mt19937 rng(12);
  auto m = make_model("mlp:784,256,128,10");
  auto data = make_data(m, 1000, rng);
  auto params = make_params(m, rng);
  auto ctx = test::make_context();
  auto gm = gpu_model::create(*ctx, m, data, 256);
  REQUIRE(gm.is_ok());
  auto idx = make_indices(200, data.count, rng);
  std::vector<float> grad(params.size());
  auto loss = (*gm)->step(params, idx, grad);
  REQUIRE(loss.is_ok());

  pinned_buffer<float> p, g;
  require_ok(p.resize(params.size()));
  require_ok(g.resize(params.size()));
  std::copy(params.begin(), params.end(), p.span().begin());
  require_ok((*gm)->upload_params(p.span()));
  require_ok((*gm)->compute(idx));
  require_ok((*gm)->download_grad(g.span()));
  auto again = (*gm)->finish();
  REQUIRE(again.is_ok());
  CHECK(std::equal(grad.begin(), grad.end(), g.span().begin()));
  CHECK(*again == doctest::Approx(*loss).epsilon(1e-12)); // the loss sum is added by atomics

  // Two computes without finish between them: the second is what finish reports.
  auto other = make_indices(100, data.count, rng);
  require_ok((*gm)->compute(other));
  require_ok((*gm)->compute(idx));
  require_ok((*gm)->download_grad(g.span()));
  auto third = (*gm)->finish();
  REQUIRE(third.is_ok());
  CHECK(std::equal(grad.begin(), grad.end(), g.span().begin()));
}

TEST_CASE("gpu_model: bad data, sizes and indices are refused with a message") {
  TETHER_GPU_REQUIRE_DEVICE();
  std::mt19937 rng(13);
  auto m = make_model("softmax:20,10");
  auto data = make_data(m, 100, rng);
  auto ctx = test::make_context();

  auto wide = make_data(make_model("softmax:21,10"), 100, rng);
  auto r = gpu_model::create(*ctx, m, wide, 64);
  REQUIRE(!r.is_ok());
  CHECK(r.error().code() == errc::mismatch);
  for (float bad : {10.0f, -1.0f, 2.5f, NAN}) {
    auto labels = data;
    labels.y[42] = bad;
    auto b = gpu_model::create(*ctx, m, labels, 64);
    REQUIRE(!b.is_ok());
    CHECK(b.error().code() == errc::mismatch);
    CHECK(b.error().message().find("sample 42") != std::string::npos);
  }
  CHECK(gpu_model::create(*ctx, m, data, 0).error().code() == errc::invalid_argument);

  auto gm = gpu_model::create(*ctx, m, data, 64);
  REQUIRE(gm.is_ok());
  CHECK((*gm)->finish().error().code() == errc::invalid_argument); // nothing computed yet
  std::vector<float> params(m.layout().total), grad(m.layout().total);
  CHECK(!(*gm)->upload_params(std::span{params}.first(5)).is_ok());
  CHECK(!(*gm)->download_grad(std::span{grad}.first(5)).is_ok());
  require_ok((*gm)->upload_params(params));
  CHECK(!(*gm)->compute({}).is_ok());
  CHECK(!(*gm)->compute(std::vector<uint32_t>(65, 0)).is_ok());
  auto past = (*gm)->compute(std::vector<uint32_t>{0, 100});
  REQUIRE(!past.is_ok());
  CHECK(past.code() == errc::invalid_argument);
  CHECK(past.message().find("100") != std::string::npos);
  // Still usable afterwards.
  auto ok = (*gm)->step(params, std::vector<uint32_t>{0, 99}, grad);
  REQUIRE(ok.is_ok());
  CHECK(*ok == doctest::Approx(std::log(10.0))); // all-zero parameters: uniform softmax
}
