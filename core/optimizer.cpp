#include "core/optimizer.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace tether {

result<optimizer_kind> parse_optimizer_kind(const std::string& text) {
  for (auto kind :
       {optimizer_kind::sgd, optimizer_kind::momentum, optimizer_kind::adam, optimizer_kind::adamw})
    if (text == to_string(kind))
      return kind;
  return status{errc::invalid_argument,
                "unknown optimizer \"" + text + "\"; expected one of: sgd, momentum, adam, adamw"};
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
  case optimizer_kind::adamw:
    return "adamw";
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
  double lr = cfg.lr;
  if (cfg.schedule == lr_schedule::cosine && cfg.total_updates > 0) {
    double progress = static_cast<double>(std::min(update, cfg.total_updates)) /
                      static_cast<double>(cfg.total_updates);
    const double floor = cfg.lr_floor;
    lr = floor + (lr - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
  if (update < cfg.warmup)
    lr *= static_cast<double>(update + 1) / static_cast<double>(cfg.warmup);
  return static_cast<float>(lr);
}

size_t optimizer_slot_count(optimizer_kind kind) {
  switch (kind) {
  case optimizer_kind::sgd:
    return 0;
  case optimizer_kind::momentum:
    return 1;
  case optimizer_kind::adam:
  case optimizer_kind::adamw:
    return 2;
  }
  return 0;
}

range_optimizer::range_optimizer(optimizer_config cfg, size_t size)
    : cfg_(cfg), size_(size),
      slots_(optimizer_slot_count(cfg.kind), std::vector<float>(size, 0.0f)) {
  if (size > 0)
    decayed_.push_back({0, size});
}

range_optimizer::range_optimizer(optimizer_config cfg, key_range range,
                                 std::span<const key_range> decayed)
    : cfg_(cfg), size_(range.size()),
      slots_(optimizer_slot_count(cfg.kind), std::vector<float>(range.size(), 0.0f)) {
  for (const auto& d : decayed) {
    const size_t begin = std::max(d.begin, range.begin);
    const size_t end = std::min(d.end, range.end);
    if (begin < end)
      decayed_.push_back({begin - range.begin, end - range.begin});
  }
  std::sort(decayed_.begin(), decayed_.end(),
            [](const key_range& a, const key_range& b) { return a.begin < b.begin; });
}

void range_optimizer::apply(std::span<float> w, std::span<const float> g, float lr) {
  assert(w.size() == size_ && g.size() == size_);
  ++steps_;
  const auto t = static_cast<double>(steps_);
  // Adam's bias corrections in double: b2^t is close to 1 for small t.
  const auto c1 = static_cast<float>(1.0 / (1.0 - std::pow(double{cfg_.beta1}, t)));
  const auto c2 = static_cast<float>(1.0 / (1.0 - std::pow(double{cfg_.beta2}, t)));
  float* __restrict wp = w.data();
  const float* __restrict gp = g.data();
  // One segment [begin, end) with weight decay wd (the configured one, or 0 outside the
  // decayed ranges); each loop vectorises.
  auto run = [&](size_t begin, size_t end, float wd) {
    switch (cfg_.kind) {
    case optimizer_kind::sgd:
      for (size_t i = begin; i < end; ++i)
        wp[i] -= lr * (gp[i] + wd * wp[i]);
      break;
    case optimizer_kind::momentum: {
      const float mu = cfg_.momentum;
      float* __restrict v = slots_[0].data();
      for (size_t i = begin; i < end; ++i) {
        v[i] = mu * v[i] + (gp[i] + wd * wp[i]);
        wp[i] -= lr * v[i];
      }
      break;
    }
    case optimizer_kind::adam:
    case optimizer_kind::adamw: {
      const float b1 = cfg_.beta1;
      const float b2 = cfg_.beta2;
      const float eps = cfg_.epsilon;
      const bool decoupled = cfg_.kind == optimizer_kind::adamw;
      const float coupled_wd = decoupled ? 0.0f : wd;
      const float shrink = decoupled ? lr * wd : 0.0f;
      float* __restrict m = slots_[0].data();
      float* __restrict v = slots_[1].data();
      for (size_t i = begin; i < end; ++i) {
        const float gi = gp[i] + coupled_wd * wp[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        wp[i] -= shrink * wp[i] + lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
      }
      break;
    }
    }
  };
  const float wd = cfg_.weight_decay;
  size_t pos = 0;
  for (const auto& r : decayed_) {
    if (pos < r.begin)
      run(pos, r.begin, 0.0f);
    run(std::max(pos, r.begin), r.end, wd);
    pos = std::max(pos, r.end);
  }
  if (pos < size_)
    run(pos, size_, 0.0f);
}

double clip_by_global_norm(std::span<float> grad, double max_norm) {
  // Eight running sums, so the loop vectorises without reassociating one sum.
  double lanes[8] = {};
  const size_t n = grad.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j)
      lanes[j] += static_cast<double>(grad[i + j]) * grad[i + j];
  double sum = 0;
  for (; i < n; ++i)
    sum += static_cast<double>(grad[i]) * grad[i];
  for (double lane : lanes)
    sum += lane;
  const double norm = std::sqrt(sum);
  if (max_norm > 0 && norm > max_norm) {
    const auto scale = static_cast<float>(max_norm / norm);
    for (float& x : grad)
      x *= scale;
  }
  return norm;
}

status range_optimizer::restore(std::vector<std::vector<float>> slots, uint64_t steps) {
  const size_t want = optimizer_slot_count(cfg_.kind);
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
