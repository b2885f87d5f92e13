#include "core/optimizer.hpp"

#include <doctest/doctest.h>

#include <cmath>
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

TEST_CASE("momentum: v = mu v + (g + wd w), w -= lr v") {
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
  for (auto kind : {optimizer_kind::sgd, optimizer_kind::momentum, optimizer_kind::adam,
                    optimizer_kind::adamw}) {
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
  CHECK(bad.error().message().find("sgd, momentum, adam, adamw") != std::string::npos);
  auto bad_schedule = parse_lr_schedule("step");
  REQUIRE(!bad_schedule.is_ok());
  CHECK(bad_schedule.error().message().find("\"step\"") != std::string::npos);
  CHECK(bad_schedule.error().message().find("constant, cosine") != std::string::npos);
}

TEST_CASE("adamw: decay decoupled from the moments, by hand") {
  auto opt = make(optimizer_kind::adamw); // wd 0.1, b1 0.9, b2 0.999
  std::vector<float> w{1.0f, -2.0f};
  // t = 1: m = 0.1 g, v = 0.001 g^2 (no decay term in them); the step is lr * sign(g),
  // and the decay lr * wd * w: 1 - 0.001 - 0.01 = 0.989; -2 + 0.002 + 0.01 = -1.988.
  opt.apply(w, grad, 0.01f);
  check_close(opt.slots().at(0), {0.05, -0.025});
  check_close(opt.slots().at(1), {0.00025, 0.0000625});
  check_close(w, {0.989, -1.988});
  // t = 2, the same gradient: m^ = g and v^ = g^2 exactly, so the step is lr * sign(g)
  // again: 0.989 - 0.000989 - 0.01.
  opt.apply(w, grad, 0.01f);
  check_close(opt.slots().at(0), {0.095, -0.0475});
  check_close(w, {0.978011, -1.976012});
  CHECK(optimizer_slot_count(optimizer_kind::adamw) == 2);
  REQUIRE(opt.restore({{0.0f, 0.0f}, {0.0f, 0.0f}}, 7).is_ok()); // checkpoint slots as adam's
  CHECK(opt.steps() == 7);
}

TEST_CASE("weight decay only on the decayed ranges, intersected with the shard's range") {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::adamw;
  cfg.weight_decay = 0.5f;
  // The shard owns keys [2, 6); the model decays [0, 3) and [5, 10): locally [0, 1), [3, 4).
  const std::vector<key_range> decayed{{5, 10}, {0, 3}};
  range_optimizer opt(cfg, key_range{2, 6}, decayed);
  CHECK(opt.decayed() == std::vector<key_range>{{0, 1}, {3, 4}});
  std::vector<float> w{1, 1, 1, 1};
  const std::vector<float> zero(4, 0.0f); // no gradient: only the decay moves w
  opt.apply(w, zero, 0.1f);
  check_close(w, {0.95, 1, 1, 0.95});

  cfg.kind = optimizer_kind::sgd; // the coupled kinds honour the mask too
  range_optimizer sgd(cfg, key_range{2, 6}, decayed);
  std::vector<float> v{1, 1, 1, 1};
  sgd.apply(v, zero, 0.1f);
  check_close(v, {0.95, 1, 1, 0.95});

  range_optimizer none(cfg, key_range{3, 5}, decayed); // nothing of it is decayed
  CHECK(none.decayed().empty());
  range_optimizer whole(cfg, 3); // the plain constructor decays everything
  CHECK(whole.decayed() == std::vector<key_range>{{0, 3}});
}

TEST_CASE("lr_at: cosine decays to the floor, after warm-up") {
  optimizer_config cfg;
  cfg.lr = 0.1f;
  cfg.lr_floor = 0.01f;
  cfg.schedule = lr_schedule::cosine;
  cfg.total_updates = 10;
  CHECK(lr_at(cfg, 0) == doctest::Approx(0.1));
  CHECK(lr_at(cfg, 5) == doctest::Approx(0.055));
  CHECK(lr_at(cfg, 10) == doctest::Approx(0.01));
  CHECK(lr_at(cfg, 1000) == doctest::Approx(0.01));
  cfg.warmup = 2;
  CHECK(lr_at(cfg, 0) == doctest::Approx(0.05));
  CHECK(lr_at(cfg, 1) == doctest::Approx(0.01 + 0.09 * 0.9755282581));
  cfg.schedule = lr_schedule::constant; // the floor belongs to the cosine schedule
  CHECK(lr_at(cfg, 500) == doctest::Approx(0.1));
}

TEST_CASE("clip_by_global_norm scales the whole gradient down to the bound") {
  std::vector<float> g{3, 4};
  CHECK(clip_by_global_norm(g, 1.0) == doctest::Approx(5.0));
  check_close(g, {0.6, 0.8});
  std::vector<float> h{3, 4};
  CHECK(clip_by_global_norm(h, 10.0) == doctest::Approx(5.0));
  check_close(h, {3, 4});
  CHECK(clip_by_global_norm(h, 0.0) == doctest::Approx(5.0)); // 0: no clipping
  check_close(h, {3, 4});
  std::vector<float> many(1001, 1.0f); // the vectorised sum and its tail
  CHECK(clip_by_global_norm(many, 0.0) == doctest::Approx(std::sqrt(1001.0)));
}
