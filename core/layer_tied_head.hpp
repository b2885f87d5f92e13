// Layer: the output head tied to the token embedding, with softmax cross-entropy.
//
//   logits[r, v] = x[r, :] . wte[v, :]            (x: rows x C, wte: vocab x C)
//   loss_r = logsumexp(logits[r, :]) - logits[r, target_r]
//
// Targets are read like the embedding's tokens: row b of the batch starts at
// targets + b * target_stride and holds `seq` bytes (a training window's bytes 1..seq).
// The weight is the embedding's own: its gradient is added to the embedding's.
// Thread-safety: none needed (pure functions of their arguments). T is float or double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tether::layers {

template <class T>
void tied_head_logits(const T* x, const T* wte, size_t rows, size_t channels, size_t vocab,
                      T* logits);

/// Returns the summed loss over rows = batch * seq (in double, nats). When `gradient` is
/// true, overwrites logits with d(scale * summed loss)/d(logits) = scale * (softmax -
/// onehot); the caller passes scale = 1 / rows for the gradient of the mean.
template <class T>
double cross_entropy(T* logits, const uint8_t* targets, size_t target_stride, size_t batch,
                     size_t seq, size_t vocab, bool gradient, T scale);

/// dx = dlogits wte (overwritten), dwte += dlogits^T x (accumulated).
template <class T>
void tied_head_backward(const T* dlogits, const T* x, const T* wte, size_t rows, size_t channels,
                        size_t vocab, T* dx, T* dwte);

} // namespace tether::layers
