// gpt_model::generate: sampling text from the model, one byte per forward pass.
#include "core/gpt_model.hpp"

#include "core/splitmix64.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>

namespace tether {

namespace {

/// Draws a byte from the logits (256 values), as gpt_model::generate describes.
uint8_t draw(const float* logits, float temperature, size_t top_k, splitmix64& rng) {
  constexpr size_t v = gpt_config::vocab;
  std::array<uint8_t, v> order;
  for (size_t i = 0; i < v; ++i)
    order[i] = static_cast<uint8_t>(i);
  // Most likely first; ties by byte value, so the order is the same everywhere.
  std::stable_sort(order.begin(), order.end(),
                   [&](uint8_t a, uint8_t b) { return logits[a] > logits[b]; });
  if (temperature <= 0.0f)
    return order[0];
  const size_t k = top_k == 0 || top_k > v ? v : top_k;
  std::array<double, v> p{};
  const double max = logits[order[0]];
  double sum = 0;
  for (size_t i = 0; i < k; ++i) {
    p[i] = std::exp((static_cast<double>(logits[order[i]]) - max) / temperature);
    sum += p[i];
  }
  double u = rng.uniform() * sum;
  for (size_t i = 0; i < k; ++i) {
    if (u < p[i])
      return order[i];
    u -= p[i];
  }
  return order[k - 1]; // rounding left u at the very end
}

} // namespace

std::string gpt_model::generate(std::span<const float> params, std::string_view prompt,
                                size_t bytes, float temperature, size_t top_k, uint64_t seed,
                                gpt_workspace& ws) const {
  assert(params.size() == layout_.total);
  ws.reserve(cfg_, 1);
  splitmix64 rng{seed};
  std::string text = prompt.empty() ? std::string("\n") : std::string(prompt);
  const size_t start = prompt.empty() ? 1 : text.size();
  text.reserve(start + bytes);
  for (size_t i = 0; i < bytes; ++i) {
    const size_t seq = std::min(text.size(), cfg_.context);
    const auto* window = reinterpret_cast<const uint8_t*>(text.data() + text.size() - seq);
    gpt_forward_backward<float>(cfg_, layout_, params.data(), window, seq, 1, seq, false, nullptr,
                                ws);
    const float* last = ws.logits.data() + (seq - 1) * gpt_config::vocab;
    text.push_back(static_cast<char>(draw(last, temperature, top_k, rng)));
  }
  return text.substr(start);
}

} // namespace tether
