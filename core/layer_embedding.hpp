// Layer: token and position embedding of a byte-level language model.
//
//   out[b, t, :] = wte[tokens[b, t], :] + wpe[t, :]
//
// Shapes (row-major): tokens is `batch` rows of bytes, row b starting at tokens + b *
// token_stride (a training window of context + 1 bytes is read in place: the inputs are
// its first `seq` bytes); wte is 256 x channels (one row per byte value); wpe is at least
// seq x channels; out is (batch * seq) x channels, row b * seq + t.
// Thread-safety: none needed (pure functions of their arguments). T is float or double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tether::layers {

template <class T>
void embedding_forward(const uint8_t* tokens, size_t token_stride, size_t batch, size_t seq,
                       const T* wte, const T* wpe, size_t channels, T* out);

/// Adds the gradient of the embedding into dwte and dwpe (they are accumulated, not
/// overwritten: the tied output head adds to dwte too).
template <class T>
void embedding_backward(const uint8_t* tokens, size_t token_stride, size_t batch, size_t seq,
                        const T* dout, size_t channels, T* dwte, T* dwpe);

} // namespace tether::layers
