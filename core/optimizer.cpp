#include "core/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tether {

result<optimizer_kind> parse_optimizer_kind(const std::string& text) {
  for (auto kind : {optimizer_kind::sgd, optimizer_kind::momentum, optimizer_kind::adam})
    if (text == to_string(kind))
      return kind;
  return status{errc::invalid_argument,
                "unknown optimizer \"" + text + "\"; expected one of: sgd, momentum, adam"};
}

result<lr_schedule> parse_lr_schedule(const std::string& text) {
  for (auto schedule : {lr_schedule::constant, lr_schedule::cosine})
    if (text == to_string(schedule))
      return schedule;
  return status{errc::invalid_argument, "unknown learning-rate schedule \"" + text +
                                            "\"; expected one of: constant, cosine"};
}

const char* to_string(optimizer_kind kind) {
  switch (kind) {
  case optimizer_kind::sgd:
    return "sgd";
  case optimizer_kind::momentum:
    return "momentum";
  case optimizer_kind::adam:
    return "adam";
  }
  return "unknown";
}

const char* to_string(lr_schedule schedule) {
  switch (schedule) {
  case lr_schedule::constant:
    return "constant";
  case lr_schedule::cosine:
    return "cosine";
  }
  return "unknown";
}

float lr_at(const optimizer_config& cfg, uint64_t update) {
  double factor = 1.0;
  if (update < cfg.warmup)
    factor *= static_cast<double>(update + 1) / static_cast<double>(cfg.warmup);
  if (cfg.schedule == lr_schedule::cosine && cfg.total_updates > 0) {
    double progress = static_cast<double>(std::min(update, cfg.total_updates)) /
                      static_cast<double>(cfg.total_updates);
    factor *= 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
  return static_cast<float>(cfg.lr * factor);
}

namespace {

size_t slot_count(optimizer_kind kind) {
  switch (kind) {
  case optimizer_kind::sgd:
    return 0;
  case optimizer_kind::momentum:
    return 1;
  case optimizer_kind::adam:
    return 2;
  }
  return 0;
}

} // namespace

range_optimizer::range_optimizer(optimizer_config cfg, size_t size)
    : cfg_(cfg), size_(size), slots_(slot_count(cfg.kind), std::vector<float>(size, 0.0f)) {}

void range_optimizer::apply(std::span<float> w, std::span<const float> g, float lr) {
  assert(w.size() == size_ && g.size() == size_);
  ++steps_;
  const float wd = cfg_.weight_decay;
  const size_t n = size_;
  float* __restrict wp = w.data();
  const float* __restrict gp = g.data();
  switch (cfg_.kind) {
  case optimizer_kind::sgd:
    for (size_t i = 0; i < n; ++i)
      wp[i] -= lr * (gp[i] + wd * wp[i]);
    break;
  case optimizer_kind::momentum: {
    const float mu = cfg_.momentum;
    float* __restrict v = slots_[0].data();
    for (size_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + (gp[i] + wd * wp[i]);
      wp[i] -= lr * v[i];
    }
    break;
  }
  case optimizer_kind::adam: {
    const float b1 = cfg_.beta1;
    const float b2 = cfg_.beta2;
    const float eps = cfg_.epsilon;
    const auto t = static_cast<double>(steps_);
    // Bias corrections in double: b2^t is close to 1 for small t.
    const auto c1 = static_cast<float>(1.0 / (1.0 - std::pow(double{b1}, t)));
    const auto c2 = static_cast<float>(1.0 / (1.0 - std::pow(double{b2}, t)));
    float* __restrict m = slots_[0].data();
    float* __restrict v = slots_[1].data();
    for (size_t i = 0; i < n; ++i) {
      const float gi = gp[i] + wd * wp[i];
      m[i] = b1 * m[i] + (1.0f - b1) * gi;
      v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
      wp[i] -= lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
    }
    break;
  }
  }
}

status range_optimizer::restore(std::vector<std::vector<float>> slots, uint64_t steps) {
  const size_t want = slot_count(cfg_.kind);
  if (slots.size() != want)
    return status{errc::mismatch, "optimizer state has " + std::to_string(slots.size()) +
                                      " slots but " + to_string(cfg_.kind) + " needs " +
                                      std::to_string(want)};
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].size() != size_)
      return status{errc::mismatch, "optimizer state slot " + std::to_string(i) + " has " +
                                        std::to_string(slots[i].size()) +
                                        " elements but the key range has " + std::to_string(size_)};
  slots_ = std::move(slots);
  steps_ = steps;
  return status::ok();
}

} // namespace tether
