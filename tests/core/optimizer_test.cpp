#include "core/optimizer.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace tether;

namespace {

// Two elements, two steps, the same gradient each time, weight decay 0.1.
// Expected values below were worked out by hand from the formulas in optimizer.hpp
// (checked in double precision).
const std::vector<float> grad{0.5f, -0.25f};

range_optimizer make(optimizer_kind kind) {
  optimizer_config cfg;
  cfg.kind = kind;
  cfg.weight_decay = 0.1f;
  return range_optimizer{cfg, 2};
}

void check_close(const std::vector<float>& got, std::vector<double> want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
}

} // namespace

TEST_CASE("sgd: w -= lr * (g + wd * w)") {
  auto opt = make(optimizer_kind::sgd);
  std::vector<float> w{1.0f, -2.0f};
  opt.apply(w, grad, 0.1f); // 1 - 0.1 * (0.5 + 0.1) = 0.94; -2 - 0.1 * (-0.25 - 0.2) = -1.955
  check_close(w, {0.94, -1.955});
  opt.apply(w, grad, 0.1f); // 0.94 - 0.1 * (0.5 + 0.094)
  check_close(w, {0.8806, -1.91045});
  CHECK(opt.slots().empty());
  CHECK(opt.steps() == 2);
}

TEST_CASE("momentum: v = mu v + (g + wd w); w -= lr v") {
  auto opt = make(optimizer_kind::momentum);
  std::vector<float> w{1.0f, -2.0f};
  opt.apply(w, grad, 0.1f); // v = 0.6, -0.45
  check_close(opt.slots().at(0), {0.6, -0.45});
  check_close(w, {0.94, -1.955});
  opt.apply(w, grad, 0.1f); // v = 0.9 * 0.6 + 0.594 = 1.134
  check_close(opt.slots().at(0), {1.134, -0.8505});
  check_close(w, {0.8266, -1.86995});
}

TEST_CASE("adam: bias-corrected moments, t counts this range's updates") {
  auto opt = make(optimizer_kind::adam);
  std::vector<float> w{1.0f, -2.0f};
  // t = 1: m = 0.1 g', v = 0.001 g'^2, so the step is lr * sign(g') (up to eps).
  opt.apply(w, grad, 0.01f);
  check_close(w, {0.99, -1.99});
  check_close(opt.slots().at(0), {0.06, -0.045});
  check_close(opt.slots().at(1), {0.00036, 0.0002025});
  // t = 2: g' = 0.599; m = 0.1139; v = 0.000718441; m^ = m / 0.19; v^ = v / 0.001999
  opt.apply(w, grad, 0.01f);
  check_close(opt.slots().at(0), {0.1139, -0.0854});
  check_close(opt.slots().at(1), {0.000718441, 0.0004038985});
  check_close(w, {0.980000439, -1.980000587});
  CHECK(opt.steps() == 2);
}

TEST_CASE("lr_at: linear warm-up and cosine decay") {
  optimizer_config cfg;
  cfg.lr = 0.1f;
  cfg.warmup = 4;
  CHECK(lr_at(cfg, 0) == doctest::Approx(0.025));
  CHECK(lr_at(cfg, 1) == doctest::Approx(0.05));
  CHECK(lr_at(cfg, 3) == doctest::Approx(0.1));
  CHECK(lr_at(cfg, 4) == doctest::Approx(0.1));
  CHECK(lr_at(cfg, 1000) == doctest::Approx(0.1));

  cfg.warmup = 0;
  cfg.schedule = lr_schedule::cosine;
  cfg.total_updates = 10;
  CHECK(lr_at(cfg, 0) == doctest::Approx(0.1));
  CHECK(lr_at(cfg, 1) == doctest::Approx(0.0975528258));
  CHECK(lr_at(cfg, 5) == doctest::Approx(0.05));
  CHECK(lr_at(cfg, 10) == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(lr_at(cfg, 25) == doctest::Approx(0.0).epsilon(1e-9));

  cfg.warmup = 2; // both factors multiply
  CHECK(lr_at(cfg, 0) == doctest::Approx(0.05));
  CHECK(lr_at(cfg, 1) == doctest::Approx(0.0975528258));
  CHECK(lr_at(cfg, 3) == doctest::Approx(0.0793892626));

  cfg.total_updates = 0; // no horizon: cosine acts as constant
  CHECK(lr_at(cfg, 7) == doctest::Approx(0.1));
}

TEST_CASE("restore checks slot count and sizes, and keeps the step count") {
  auto adam = make(optimizer_kind::adam);
  auto st = adam.restore({{1, 2}}, 3);
  CHECK(st.code() == errc::mismatch);
  CHECK(st.message().find("adam needs 2") != std::string::npos);
  st = adam.restore({{1, 2}, {3, 4, 5}}, 3);
  CHECK(st.code() == errc::mismatch);
  CHECK(st.message().find("slot 1 has 3 elements") != std::string::npos);
  CHECK(adam.steps() == 0); // a refused restore changes nothing

  REQUIRE(adam.restore({{0.06f, -0.045f}, {0.00036f, 0.0002025f}}, 1).is_ok());
  CHECK(adam.steps() == 1);
  // Continuing from the state after step 1 gives the same second step as above.
  std::vector<float> w{0.99f, -1.99f};
  adam.apply(w, grad, 0.01f);
  check_close(w, {0.980000439, -1.980000587});

  auto sgd = make(optimizer_kind::sgd);
  CHECK(sgd.restore({}, 9).is_ok());
  CHECK(sgd.restore({{1, 2}}, 9).code() == errc::mismatch);
}

TEST_CASE("parse and print optimizer kinds and schedules") {
  for (auto kind : {optimizer_kind::sgd, optimizer_kind::momentum, optimizer_kind::adam}) {
    auto parsed = parse_optimizer_kind(to_string(kind));
    REQUIRE(parsed.is_ok());
    CHECK(*parsed == kind);
  }
  for (auto s : {lr_schedule::constant, lr_schedule::cosine}) {
    auto parsed = parse_lr_schedule(to_string(s));
    REQUIRE(parsed.is_ok());
    CHECK(*parsed == s);
  }
  auto bad = parse_optimizer_kind("adagrad");
  REQUIRE(!bad.is_ok());
  CHECK(bad.error().code() == errc::invalid_argument);
  CHECK(bad.error().message().find("\"adagrad\"") != std::string::npos);
  CHECK(bad.error().message().find("sgd, momentum, adam") != std::string::npos);
  auto bad_schedule = parse_lr_schedule("step");
  REQUIRE(!bad_schedule.is_ok());
  CHECK(bad_schedule.error().message().find("\"step\"") != std::string::npos);
  CHECK(bad_schedule.error().message().find("constant, cosine") != std::string::npos);
}
