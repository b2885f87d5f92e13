#include "core/model.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace tether;

namespace {

// ---- a float64 reference forward, written independently of core/model.cpp ----

double reference_loss(const model& m, const std::vector<double>& p, const std::vector<float>& x,
                      const std::vector<float>& y, size_t batch) {
  const auto& sizes = m.spec().sizes;
  const size_t layers = sizes.size() - 1;
  double total = 0;
  for (size_t r = 0; r < batch; ++r) {
    std::vector<double> a(x.begin() + r * sizes[0], x.begin() + (r + 1) * sizes[0]);
    for (size_t l = 0; l < layers; ++l) {
      const auto& w = m.layout().tensors[2 * l];
      const auto& b = m.layout().tensors[2 * l + 1];
      std::vector<double> z(sizes[l + 1]);
      for (size_t o = 0; o < sizes[l + 1]; ++o) {
        double s = p[b.offset + o];
        for (size_t i = 0; i < sizes[l]; ++i)
          s += p[w.offset + o * sizes[l] + i] * a[i];
        z[o] = l + 1 < layers ? std::max(s, 0.0) : s;
      }
      a = std::move(z);
    }
    if (m.head() == model_head::squared_error) {
      total += 0.5 * (a[0] - y[r]) * (a[0] - y[r]);
    } else {
      double max = *std::max_element(a.begin(), a.end());
      double sum = 0;
      for (double v : a)
        sum += std::exp(v - max);
      total += std::log(sum) + max - a[static_cast<size_t>(y[r])];
    }
  }
  return total / static_cast<double>(batch);
}

struct batch_data {
  std::vector<float> x, y;
};

batch_data random_batch(const model& m, size_t batch, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  batch_data d;
  d.x.resize(batch * m.inputs());
  for (auto& v : d.x)
    v = normal(rng);
  d.y.resize(batch);
  for (auto& v : d.y)
    v = m.head() == model_head::squared_error ? normal(rng)
                                              : static_cast<float>(rng() % m.outputs());
  return d;
}

model make_model(const std::string& text) {
  auto spec = parse_model_spec(text);
  REQUIRE(spec.is_ok());
  auto m = model::make(*spec);
  REQUIRE(m.is_ok());
  return std::move(m).value();
}

// Compares loss_and_gradient with the reference loss and its central differences.
void check_gradient(const std::string& text, size_t batch) {
  CAPTURE(text);
  auto m = make_model(text);
  std::mt19937 rng(7);
  std::vector<float> params(m.layout().total);
  m.init_params(params, 3);
  // Non-zero biases so that the bias paths are exercised too.
  std::uniform_real_distribution<float> small(-0.1f, 0.1f);
  for (size_t t = 1; t < m.layout().tensors.size(); t += 2)
    for (size_t i = 0; i < m.layout().tensors[t].size; ++i)
      params[m.layout().tensors[t].offset + i] = small(rng);
  auto d = random_batch(m, batch, rng);

  std::vector<float> grad(params.size(), NAN);
  model_workspace ws;
  const float loss = m.loss_and_gradient(params, d.x, d.y, batch, grad, ws);

  std::vector<double> p(params.begin(), params.end());
  const double ref = reference_loss(m, p, d.x, d.y, batch);
  CHECK(loss == doctest::Approx(ref).epsilon(1e-5));

  const double eps = 1e-5;
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double keep = p[i];
    p[i] = keep + eps;
    const double up = reference_loss(m, p, d.x, d.y, batch);
    p[i] = keep - eps;
    const double down = reference_loss(m, p, d.x, d.y, batch);
    p[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    const double err = std::fabs(grad[i] - numeric) / std::max(1.0, std::fabs(numeric));
    worst = std::max(worst, err);
    if (err > 1e-4 && ++bad <= 5)
      std::printf("%s: grad[%zu] analytic %.8g numeric %.8g\n", text.c_str(), i, grad[i], numeric);
  }
  CHECK(bad == 0);
  CHECK(worst <= 1e-4);

  // The same workspace reused with a smaller then the same batch gives the same answer.
  std::vector<float> again(params.size());
  m.loss_and_gradient(params, d.x, d.y, 1, again, ws);
  CHECK(m.loss_and_gradient(params, d.x, d.y, batch, again, ws) == loss);
  CHECK(again == grad);
}

std::string error_of(const std::string& text) {
  auto spec = parse_model_spec(text);
  REQUIRE_MESSAGE(!spec.is_ok(), text);
  CHECK(spec.error().code() == errc::invalid_argument);
  return spec.error().message();
}

bool mentions(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("gradients match finite differences of a float64 reference") {
  check_gradient("mlp:7,6,5,4", 5); // two hidden layers
  check_gradient("mlp:9,12,3", 17); // one hidden layer, batch not a multiple of 8
  check_gradient("softmax:6,4", 5); // one dense layer, cross-entropy
  check_gradient("linear:5,1", 9);  // one dense layer, squared error
  check_gradient("mlp:4,3,1", 1);   // a one-class softmax has zero loss and gradient
}

TEST_CASE("linear loss is J = 1/(2m) sum (h - y)^2, by hand") {
  auto m = make_model("linear:2,1");
  std::vector<float> params{2.0f, -1.0f, 0.5f}; // w = (2, -1), b = 0.5
  std::vector<float> x{1, 2, 3, 0, 0, 1};
  std::vector<float> y{1, 5, 0};
  // h = 0.5, 6.5, -0.5; err = -0.5, 1.5, -0.5; sum err^2 = 2.75
  std::vector<float> grad(3);
  model_workspace ws;
  CHECK(m.loss_and_gradient(params, x, y, 3, grad, ws) == doctest::Approx(2.75 / 6));
  // dw = 1/m sum err x = (4/3, -1/2); db = 1/m sum err = 1/6
  CHECK(grad[0] == doctest::Approx(4.0 / 3));
  CHECK(grad[1] == doctest::Approx(-0.5));
  CHECK(grad[2] == doctest::Approx(1.0 / 6));
  auto ev = m.evaluate(params, x, y, 3, ws);
  CHECK(ev.loss == doctest::Approx(2.75 / 6));
  CHECK(ev.mse == doctest::Approx(2.75 / 3));
  CHECK(ev.accuracy == 0);
  CHECK(ev.count == 3);
}

TEST_CASE("evaluate over many chunks agrees with the reference and with argmax") {
  auto m = make_model("mlp:6,8,3");
  std::vector<float> params(m.layout().total);
  m.init_params(params, 11);
  std::mt19937 rng(5);
  const size_t count = 2345; // three chunks, the last one partial
  auto d = random_batch(m, count, rng);
  model_workspace ws;
  auto ev = m.evaluate(params, d.x, d.y, count, ws);
  std::vector<double> p(params.begin(), params.end());
  CHECK(ev.loss == doctest::Approx(reference_loss(m, p, d.x, d.y, count)).epsilon(1e-5));
  CHECK(ev.count == count);
  CHECK(ev.mse == 0);
  // Accuracy: a label equal to the argmax of one sample's logits counts as a hit.
  size_t hits = 0;
  std::vector<float> one(m.layout().total);
  for (size_t r = 0; r < count; ++r) {
    std::vector<float> xr(d.x.begin() + r * 6, d.x.begin() + (r + 1) * 6);
    // The label with the lowest single-sample loss is the argmax of the logits.
    float best_loss = INFINITY;
    size_t best = 0;
    for (size_t c = 0; c < 3; ++c) {
      std::vector<float> yc{static_cast<float>(c)};
      float l = m.loss_and_gradient(params, xr, yc, 1, one, ws);
      if (l < best_loss)
        best_loss = l, best = c;
    }
    hits += best == static_cast<size_t>(d.y[r]);
  }
  CHECK(ev.accuracy == doctest::Approx(static_cast<double>(hits) / count));
}

TEST_CASE("init_params is deterministic, bounded and zeroes biases") {
  auto m = make_model("mlp:50,20,10");
  std::vector<float> a(m.layout().total), b(a.size()), c(a.size());
  m.init_params(a, 1);
  m.init_params(b, 1);
  m.init_params(c, 2);
  CHECK(a == b);
  CHECK(a != c);
  const auto& t = m.layout().tensors;
  const float he = std::sqrt(6.0f / 50), glorot = std::sqrt(6.0f / 30);
  float max0 = 0, max1 = 0;
  for (size_t i = 0; i < t[0].size; ++i)
    max0 = std::max(max0, std::fabs(a[t[0].offset + i]));
  for (size_t i = 0; i < t[2].size; ++i)
    max1 = std::max(max1, std::fabs(a[t[2].offset + i]));
  CHECK(max0 <= he);
  CHECK(max0 > 0.9f * he);
  CHECK(max1 <= glorot);
  CHECK(max1 > 0.8f * glorot);
  for (size_t k : {1, 3})
    for (size_t i = 0; i < t[k].size; ++i)
      CHECK(a[t[k].offset + i] == 0.0f);
}

TEST_CASE("model layout: weight {out, in} then bias {out}, per layer") {
  auto m = make_model("mlp:784,256,128,10");
  const auto& t = m.layout().tensors;
  REQUIRE(t.size() == 6);
  CHECK(t[0].name == "layer0.weight");
  CHECK(t[0].shape == std::vector<size_t>{256, 784});
  CHECK(t[1].name == "layer0.bias");
  CHECK(t[5].name == "layer2.bias");
  CHECK(m.layout().total == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  CHECK(m.head() == model_head::softmax_cross_entropy);
  CHECK(make_model("linear:3,1").head() == model_head::squared_error);
}

TEST_CASE("parse_model_spec accepts the documented forms") {
  auto mlp = parse_model_spec("mlp:784,256,128,10");
  REQUIRE(mlp.is_ok());
  CHECK(mlp->kind == "mlp");
  CHECK(mlp->sizes == std::vector<size_t>{784, 256, 128, 10});
  CHECK(mlp->to_string() == "mlp:784,256,128,10");
  auto softmax = parse_model_spec("softmax");
  REQUIRE(softmax.is_ok());
  CHECK(softmax->sizes.empty());
  CHECK(softmax->to_string() == "softmax");
  CHECK(parse_model_spec("softmax:784,10").is_ok());
  CHECK(parse_model_spec("linear").is_ok());
  CHECK(parse_model_spec("linear:20,1").is_ok());
  CHECK(parse_model_spec("mlp:2,3").is_ok());
}

TEST_CASE("parse_model_spec errors name the offending part") {
  CHECK(mentions(error_of("mlp:784,x"), "\"x\""));
  CHECK(mentions(error_of("mlp:784,x"), "mlp:784,256,128,10"));
  CHECK(mentions(error_of("mlp:784,0,10"), "\"0\""));
  CHECK(mentions(error_of("mlp:-5,10"), "\"-5\""));
  CHECK(mentions(error_of("mlp:784,,10"), "\"\""));
  CHECK(mentions(error_of("mlp:784,10,"), "\"\""));
  CHECK(mentions(error_of("mlp:1e3,10"), "\"1e3\""));
  CHECK(mentions(error_of("mlp:99999999999999999999,10"), "\"99999999999999999999\""));
  CHECK(mentions(error_of("mlp:"), "empty"));
  CHECK(mentions(error_of("mlp:784"), "at least"));
  CHECK(mentions(error_of("mlp"), "sizes"));
  CHECK(mentions(error_of("cnn:3,10"), "\"cnn\""));
  CHECK(mentions(error_of(""), "unknown model kind"));
  CHECK(mentions(error_of("softmax:784,256,10"), "exactly two"));
  CHECK(mentions(error_of("linear:20,2"), "linear:20,1"));
}

TEST_CASE("complete_spec fills sizes from the data and refuses mismatches") {
  auto softmax = complete_spec(*parse_model_spec("softmax"), 20, 10);
  REQUIRE(softmax.is_ok());
  CHECK(softmax->sizes == std::vector<size_t>{20, 10});
  auto linear = complete_spec(*parse_model_spec("linear"), 20, 0);
  REQUIRE(linear.is_ok());
  CHECK(linear->sizes == std::vector<size_t>{20, 1});
  CHECK(complete_spec(*parse_model_spec("mlp:784,64,10"), 784, 10).is_ok());

  auto in = complete_spec(*parse_model_spec("mlp:784,256,10"), 20, 10);
  REQUIRE(!in.is_ok());
  CHECK(in.error().code() == errc::mismatch);
  CHECK(mentions(in.error().message(), "model input size 784 does not match the data's 20"));
  auto out = complete_spec(*parse_model_spec("softmax:20,5"), 20, 10);
  REQUIRE(!out.is_ok());
  CHECK(out.error().code() == errc::mismatch);
  CHECK(mentions(out.error().message(), "5"));
  CHECK(mentions(out.error().message(), "10 classes"));
  auto cls_on_reg = complete_spec(*parse_model_spec("softmax"), 20, 0);
  REQUIRE(!cls_on_reg.is_ok());
  CHECK(cls_on_reg.error().code() == errc::mismatch);
  CHECK(mentions(cls_on_reg.error().message(), "regression"));
  auto reg_on_cls = complete_spec(*parse_model_spec("linear"), 20, 10);
  REQUIRE(!reg_on_cls.is_ok());
  CHECK(reg_on_cls.error().code() == errc::mismatch);
  CHECK(mentions(reg_on_cls.error().message(), "10 classes"));
}

TEST_CASE("model::make refuses specs that are not complete") {
  auto empty = model::make(model_spec{"softmax", {}});
  REQUIRE(!empty.is_ok());
  CHECK(mentions(empty.error().message(), "complete"));
  CHECK(!model::make(model_spec{"mlp", {4, 0, 2}}).is_ok());
  CHECK(!model::make(model_spec{"rnn", {4, 2}}).is_ok());
}
