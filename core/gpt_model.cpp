#include "core/gpt_model.hpp"

#include "core/layer_embedding.hpp"
#include "core/layer_norm.hpp"
#include "core/layer_tied_head.hpp"
#include "core/splitmix64.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace tether {

namespace {

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n)
    v.resize(n);
}

block_shape shape_of(const gpt_config& cfg, size_t batch, size_t seq) {
  return {batch, seq, cfg.heads, cfg.embd, cfg.mlp_width(), cfg.context};
}

// Tensor order of gpt_layout: wte, wpe, 8 per block, ln_f gain and bias.
constexpr size_t tensors_per_block = 8;

template <class T, class P>
block_tensors<T> block_views(const param_layout& layout, P* base, size_t l) {
  const auto* t = &layout.tensors[2 + tensors_per_block * l];
  auto at = [&](size_t i) { return base + t[i].offset; };
  return {at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)};
}

} // namespace

// ---- workspace and memory ----------------------------------------------------------

template <class T>
size_t gpt_activations<T>::bytes(const gpt_config& cfg, size_t batch) {
  const auto s = shape_of(cfg, batch, cfg.context);
  const size_t rows = s.rows();
  const size_t c = cfg.embd;
  const size_t values = (cfg.layers + 1) * rows * c +
                        cfg.layers * block_activations<T>::elements(s) + rows * (c + 2) +
                        rows * gpt_config::vocab + 2 * rows * c + block_scratch<T>::elements(s);
  return sizeof(T) * values + batch * (cfg.context + 1);
}

template <class T>
void gpt_activations<T>::reserve(const gpt_config& cfg, size_t batch) {
  if (batch <= batch_capacity && blocks.size() == cfg.layers)
    return;
  const auto s = shape_of(cfg, batch, cfg.context);
  const size_t rows = s.rows();
  const size_t c = cfg.embd;
  resid.resize(cfg.layers + 1);
  for (auto& r : resid)
    grow(r, rows * c);
  blocks.resize(cfg.layers);
  for (auto& b : blocks)
    b.resize(s);
  grow(lnf, rows * c);
  grow(lnf_mean, rows);
  grow(lnf_rstd, rows);
  grow(logits, rows * gpt_config::vocab);
  grow(d_resid, rows * c);
  grow(d_lnf, rows * c);
  scratch.resize(s);
  grow(windows, batch * (cfg.context + 1));
  batch_capacity = batch;
}

template <class T>
size_t gpt_activations<T>::held_bytes() const {
  size_t values = lnf.size() + lnf_mean.size() + lnf_rstd.size() + logits.size() + d_resid.size() +
                  d_lnf.size() + scratch.d_wide.size() + scratch.d_qkv.size() +
                  scratch.d_narrow.size() + scratch.d_scores.size();
  for (const auto& r : resid)
    values += r.size();
  for (const auto& b : blocks)
    for (const auto* v : {&b.ln1, &b.ln1_mean, &b.ln1_rstd, &b.qkv, &b.probs, &b.att, &b.mid,
                          &b.ln2, &b.ln2_mean, &b.ln2_rstd, &b.fc, &b.act})
      values += v->size();
  return sizeof(T) * values + windows.size();
}

gpt_memory gpt_memory_estimate(const gpt_config& cfg, size_t batch, size_t optimizer_slots) {
  const size_t params = gpt_layout(cfg).total;
  gpt_memory m;
  m.params = 4 * params;
  m.gradient = 4 * params;
  m.optimizer_state = 4 * params * optimizer_slots;
  m.worker_activations = gpt_workspace::bytes(cfg, batch);
  return m;
}

// ---- construction and initialisation ----------------------------------------------

result<gpt_model> gpt_model::make(const gpt_config& cfg) {
  if (cfg.layers == 0 || cfg.heads == 0 || cfg.embd == 0 || cfg.context == 0 ||
      cfg.embd % cfg.heads != 0)
    return status{errc::invalid_argument,
                  "model " + cfg.to_string() +
                      ": every size must be positive and embd a multiple of heads"};
  gpt_model m;
  m.cfg_ = cfg;
  m.layout_ = gpt_layout(cfg);
  m.decayed_ = gpt_decayed_ranges(m.layout_);
  return m;
}

void gpt_model::init_params(std::span<float> params, uint64_t seed) const {
  assert(params.size() == layout_.total);
  splitmix64 rng{seed};
  for (const auto& t : layout_.tensors) {
    float* p = params.data() + t.offset;
    if (t.shape.size() == 2) {
      // Box-Muller: two uniforms give two independent N(0, 1) draws.
      for (size_t i = 0; i < t.size; i += 2) {
        const double u1 = 1.0 - rng.uniform(); // (0, 1]: log is finite
        const double u2 = rng.uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        const double angle = 2.0 * std::numbers::pi * u2;
        p[i] = static_cast<float>(0.02 * radius * std::cos(angle));
        if (i + 1 < t.size)
          p[i + 1] = static_cast<float>(0.02 * radius * std::sin(angle));
      }
    } else {
      const bool gain = t.name.ends_with(".weight");
      std::fill_n(p, t.size, gain ? 1.0f : 0.0f);
    }
  }
}

// ---- forward and backward ----------------------------------------------------------

template <class T>
double gpt_forward_backward(const gpt_config& cfg, const param_layout& layout, const T* params,
                            const uint8_t* tokens, size_t stride, size_t batch, size_t seq,
                            bool targets, T* grad, gpt_activations<T>& ws) {
  using namespace layers;
  assert(seq >= 1 && seq <= cfg.context && batch <= ws.batch_capacity);
  const auto s = shape_of(cfg, batch, seq);
  const size_t rows = s.rows();
  const size_t c = cfg.embd;
  const size_t v = gpt_config::vocab;
  const size_t lnf_at = 2 + tensors_per_block * cfg.layers;
  const T* wte = params + layout.tensors[0].offset;
  const T* wpe = params + layout.tensors[1].offset;
  const T* lnf_gain = params + layout.tensors[lnf_at].offset;
  const T* lnf_bias = params + layout.tensors[lnf_at + 1].offset;

  embedding_forward(tokens, stride, batch, seq, wte, wpe, c, ws.resid[0].data());
  for (size_t l = 0; l < cfg.layers; ++l)
    block_forward(block_views<const T>(layout, params, l), s, ws.resid[l].data(), ws.blocks[l],
                  ws.resid[l + 1].data());
  const T* top = ws.resid[cfg.layers].data();
  layer_norm_forward(top, lnf_gain, lnf_bias, rows, c, ws.lnf.data(), ws.lnf_mean.data(),
                     ws.lnf_rstd.data());
  tied_head_logits(ws.lnf.data(), wte, rows, c, v, ws.logits.data());
  if (!targets)
    return 0;
  const bool backward = grad != nullptr;
  const double loss = cross_entropy(ws.logits.data(), tokens + 1, stride, batch, seq, v, backward,
                                    T(1) / static_cast<T>(rows));
  if (!backward)
    return loss;

  std::fill_n(grad, layout.total, T(0));
  T* d_wte = grad + layout.tensors[0].offset;
  T* d_wpe = grad + layout.tensors[1].offset;
  tied_head_backward(ws.logits.data(), ws.lnf.data(), wte, rows, c, v, ws.d_lnf.data(), d_wte);
  std::fill_n(ws.d_resid.data(), rows * c, T(0));
  layer_norm_backward(ws.d_lnf.data(), top, lnf_gain, ws.lnf_mean.data(), ws.lnf_rstd.data(), rows,
                      c, ws.d_resid.data(), grad + layout.tensors[lnf_at].offset,
                      grad + layout.tensors[lnf_at + 1].offset);
  for (size_t l = cfg.layers; l-- > 0;)
    block_backward(block_views<const T>(layout, params, l), s, ws.resid[l].data(), ws.blocks[l],
                   ws.d_resid.data(), block_views<T>(layout, grad, l), ws.scratch);
  embedding_backward(tokens, stride, batch, seq, ws.d_resid.data(), c, d_wte, d_wpe);
  return loss;
}

float gpt_model::loss_and_gradient(std::span<const float> params, std::span<const uint8_t> tokens,
                                   size_t batch, std::span<float> grad, gpt_workspace& ws) const {
  assert(params.size() == layout_.total && grad.size() == layout_.total);
  assert(batch > 0 && tokens.size() >= batch * (cfg_.context + 1));
  ws.reserve(cfg_, batch);
  const double sum =
      gpt_forward_backward(cfg_, layout_, params.data(), tokens.data(), cfg_.context + 1, batch,
                           cfg_.context, true, grad.data(), ws);
  return static_cast<float>(sum / static_cast<double>(batch * cfg_.context));
}

double gpt_model::loss(std::span<const float> params, std::span<const uint8_t> tokens, size_t batch,
                       gpt_workspace& ws) const {
  assert(params.size() == layout_.total && batch > 0);
  assert(tokens.size() >= batch * (cfg_.context + 1));
  ws.reserve(cfg_, batch);
  const double sum =
      gpt_forward_backward<float>(cfg_, layout_, params.data(), tokens.data(), cfg_.context + 1,
                                  batch, cfg_.context, true, nullptr, ws);
  return sum / static_cast<double>(batch * cfg_.context);
}

gpt_evaluation gpt_model::evaluate(std::span<const float> params, std::span<const uint8_t> text,
                                   size_t max_windows, gpt_workspace& ws) const {
  assert(params.size() == layout_.total);
  gpt_evaluation ev;
  const size_t t = cfg_.context;
  if (text.size() < t + 1)
    return ev;
  const size_t all = (text.size() - 1) / t;
  const size_t count = max_windows == 0 || max_windows >= all ? all : max_windows;
  // Windows start at multiples of the context; they overlap by one byte (the last target
  // of one is the first input of the next), so with all windows each byte is predicted
  // once. One forward call takes up to `chunk` windows, copied side by side.
  const size_t chunk = std::max<size_t>(ws.batch_capacity, 8);
  ws.reserve(cfg_, chunk);
  double sum = 0;
  for (size_t j = 0; j < count;) {
    const size_t n = std::min(chunk, count - j);
    for (size_t i = 0; i < n; ++i) {
      const size_t k = (j + i) * all / count; // == j + i when all windows are taken
      std::copy_n(text.data() + k * t, t + 1, ws.windows.data() + i * (t + 1));
    }
    sum += gpt_forward_backward<float>(cfg_, layout_, params.data(), ws.windows.data(), t + 1, n, t,
                                       true, nullptr, ws);
    j += n;
  }
  ev.windows = count;
  ev.tokens = count * t;
  ev.loss = sum / static_cast<double>(ev.tokens);
  ev.bits_per_byte = ev.loss / std::numbers::ln2;
  return ev;
}

template struct gpt_activations<float>;
template struct gpt_activations<double>;
template double gpt_forward_backward<float>(const gpt_config&, const param_layout&, const float*,
                                            const uint8_t*, size_t, size_t, size_t, bool, float*,
                                            gpt_activations<float>&);
template double gpt_forward_backward<double>(const gpt_config&, const param_layout&, const double*,
                                             const uint8_t*, size_t, size_t, size_t, bool, double*,
                                             gpt_activations<double>&);

} // namespace tether
