#include "core/gpt_block.hpp"

#include "core/layer_attention.hpp"
#include "core/layer_gelu.hpp"
#include "core/layer_linear.hpp"
#include "core/layer_norm.hpp"

#include <algorithm>

namespace tether {

namespace {

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n)
    v.resize(n); // only when the shape grows: steady-state steps allocate nothing
}

/// The shape with full-length sequences: buffers are sized for the model's context.
block_shape full(const block_shape& s) {
  block_shape f = s;
  f.seq = s.context;
  return f;
}

} // namespace

template <class T>
size_t block_activations<T>::elements(const block_shape& s0) {
  const auto s = full(s0);
  const size_t r = s.rows();
  return r * (4 * s.channels + 4 + 3 * s.channels + 2 * s.mlp) + s.batch * s.heads * s.seq * s.seq;
}

template <class T>
void block_activations<T>::resize(const block_shape& s0) {
  const auto s = full(s0);
  const size_t r = s.rows();
  const size_t c = s.channels;
  for (auto* v : {&ln1, &att, &mid, &ln2})
    grow(*v, r * c);
  for (auto* v : {&ln1_mean, &ln1_rstd, &ln2_mean, &ln2_rstd})
    grow(*v, r);
  grow(qkv, r * 3 * c);
  grow(probs, s.batch * s.heads * s.seq * s.seq);
  grow(fc, r * s.mlp);
  grow(act, r * s.mlp);
}

template <class T>
size_t block_scratch<T>::elements(const block_shape& s0) {
  const auto s = full(s0);
  const size_t r = s.rows();
  return r * (s.mlp + 3 * s.channels + s.channels) + s.seq * s.seq;
}

template <class T>
void block_scratch<T>::resize(const block_shape& s0) {
  const auto s = full(s0);
  const size_t r = s.rows();
  grow(d_wide, r * s.mlp);
  grow(d_qkv, r * 3 * s.channels);
  grow(d_narrow, r * s.channels);
  grow(d_scores, s.seq * s.seq);
}

template <class T>
void block_forward(const block_tensors<const T>& w, const block_shape& s, const T* x,
                   block_activations<T>& a, T* y) {
  using namespace layers;
  const size_t r = s.rows();
  const size_t c = s.channels;
  layer_norm_forward(x, w.ln1_gain, w.ln1_bias, r, c, a.ln1.data(), a.ln1_mean.data(),
                     a.ln1_rstd.data());
  linear_forward(a.ln1.data(), w.attn_w, r, c, 3 * c, a.qkv.data());
  attention_forward(a.qkv.data(), s.attention(), a.probs.data(), a.att.data());
  linear_forward(a.att.data(), w.proj_w, r, c, c, a.mid.data());
  for (size_t i = 0; i < r * c; ++i)
    a.mid[i] += x[i];
  layer_norm_forward(a.mid.data(), w.ln2_gain, w.ln2_bias, r, c, a.ln2.data(), a.ln2_mean.data(),
                     a.ln2_rstd.data());
  linear_forward(a.ln2.data(), w.fc_w, r, c, s.mlp, a.fc.data());
  gelu_forward(a.fc.data(), r * s.mlp, a.act.data());
  linear_forward(a.act.data(), w.fc_proj_w, r, s.mlp, c, y);
  const T* __restrict mid = a.mid.data();
  for (size_t i = 0; i < r * c; ++i)
    y[i] += mid[i];
}

template <class T>
void block_backward(const block_tensors<const T>& w, const block_shape& s, const T* x,
                    const block_activations<T>& a, T* dy, const block_tensors<T>& g,
                    block_scratch<T>& k) {
  using namespace layers;
  const size_t r = s.rows();
  const size_t c = s.channels;
  // MLP branch: dy is d y = d mid (the residual) until ln_2 adds its part.
  linear_backward(dy, a.act.data(), w.fc_proj_w, r, s.mlp, c, k.d_wide.data(), g.fc_proj_w);
  gelu_backward(a.fc.data(), k.d_wide.data(), r * s.mlp, k.d_wide.data());
  linear_backward(k.d_wide.data(), a.ln2.data(), w.fc_w, r, c, s.mlp, k.d_narrow.data(), g.fc_w);
  layer_norm_backward(k.d_narrow.data(), a.mid.data(), w.ln2_gain, a.ln2_mean.data(),
                      a.ln2_rstd.data(), r, c, dy, g.ln2_gain, g.ln2_bias);
  // Attention branch: dy now holds d mid, which is also d x of the residual.
  linear_backward(dy, a.att.data(), w.proj_w, r, c, c, k.d_narrow.data(), g.proj_w);
  attention_backward(k.d_narrow.data(), a.qkv.data(), a.probs.data(), s.attention(), k.d_qkv.data(),
                     k.d_scores.data());
  linear_backward(k.d_qkv.data(), a.ln1.data(), w.attn_w, r, c, 3 * c, k.d_narrow.data(), g.attn_w);
  layer_norm_backward(k.d_narrow.data(), x, w.ln1_gain, a.ln1_mean.data(), a.ln1_rstd.data(), r, c,
                      dy, g.ln1_gain, g.ln1_bias);
}

template struct block_activations<float>;
template struct block_activations<double>;
template struct block_scratch<float>;
template struct block_scratch<double>;
template void block_forward<float>(const block_tensors<const float>&, const block_shape&,
                                   const float*, block_activations<float>&, float*);
template void block_forward<double>(const block_tensors<const double>&, const block_shape&,
                                    const double*, block_activations<double>&, double*);
template void block_backward<float>(const block_tensors<const float>&, const block_shape&,
                                    const float*, const block_activations<float>&, float*,
                                    const block_tensors<float>&, block_scratch<float>&);
template void block_backward<double>(const block_tensors<const double>&, const block_shape&,
                                     const double*, const block_activations<double>&, double*,
                                     const block_tensors<double>&, block_scratch<double>&);

} // namespace tether
