// The models: a stack of dense layers with ReLU between them and one of two heads.
//
//   mlp:784,256,128,10  dense 784->256, ReLU, dense 256->128, ReLU, dense 128->10,
//                       softmax cross-entropy head (classification)
//   softmax             one dense layer inputs->classes, softmax cross-entropy head
//   linear              one dense layer features->1, squared-error head (regression),
//                       loss J = 1/(2m) * sum (h(x) - y)^2
//
// Parameters live in a flat vector described by layout() (core/layout.hpp).
// Thread-safety: a model is immutable after construction and may be shared by threads;
// the per-call scratch memory lives in a `model_workspace` that each thread owns.
// BLAS: every matrix product goes through core/blas.hpp (OpenBLAS sgemm, single-threaded).
#pragma once

#include "core/layout.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tether {

enum class model_head { softmax_cross_entropy, squared_error };

/// What the user asked for, parsed from --model.
struct model_spec {
  std::string kind;          ///< "mlp", "softmax" or "linear"
  std::vector<size_t> sizes; ///< layer widths, input first; empty for softmax/linear
                             ///< until completed from the data (see complete_spec)

  std::string to_string() const; ///< canonical text, e.g. "mlp:784,256,128,10"
};

/// Parses "mlp:784,256,128,10", "softmax" or "linear" (also "softmax:784,10",
/// "linear:20,1"). Errors name the bad part of the string.
result<model_spec> parse_model_spec(const std::string& text);

/// Fills in or checks sizes against the data: inputs = features, outputs = classes
/// (classes == 0 means regression: output 1). A size mismatch, a classification model
/// on regression data or the reverse is an errc::mismatch naming both numbers.
result<model_spec> complete_spec(model_spec spec, size_t features, size_t classes);

/// Scratch memory for one forward/backward; reused across calls to avoid allocation.
/// Buffers only grow (to the largest batch seen), so steady-state calls allocate nothing.
/// activations[l] (l >= 1) is the output of dense layer l-1; the input x is never
/// copied, so activations[0] stays empty. deltas[l] is d(mean loss)/d(pre-activation)
/// of layer l-1; the last layer's delta is written over its output in place.
/// Both are stored transposed (feature-major, width x batch): see core/model.cpp.
struct model_workspace {
  std::vector<std::vector<float>> activations; ///< per layer, width x batch
  std::vector<std::vector<float>> deltas;      ///< per layer, width x batch
  std::vector<float> scratch;
};

/// Loss and accuracy over a set of samples.
struct evaluation {
  double loss = 0;     ///< mean loss (cross-entropy, or J = 1/(2m) sum err^2)
  double accuracy = 0; ///< fraction correct (classification); 0 for regression
  double mse = 0;      ///< mean squared error 1/m sum err^2 (regression); 0 otherwise
  size_t count = 0;
};

class model {
public:
  /// Builds the model of a completed spec. Requires every size >= 1.
  static result<model> make(const model_spec& spec);

  const param_layout& layout() const { return layout_; }
  const model_spec& spec() const { return spec_; }
  model_head head() const { return head_; }
  size_t inputs() const { return spec_.sizes.front(); }
  size_t outputs() const { return spec_.sizes.back(); }

  /// Deterministic initialisation from a seed: weights He-uniform
  /// (U(-sqrt(6/fan_in), +sqrt(6/fan_in))) for layers followed by ReLU, Glorot-uniform
  /// for the last layer; biases zero. params.size() == layout().total.
  void init_params(std::span<float> params, uint64_t seed) const;

  /// Forward and backward on one batch.
  ///   params: layout().total floats
  ///   x:      batch x inputs(), row-major, float32
  ///   y:      batch targets: class index as float for softmax heads (0 <= y < outputs(),
  ///           asserted), value for squared error
  ///   grad:   out, layout().total floats, overwritten with d(mean loss)/d(params)
  /// Returns the mean loss over the batch.
  float loss_and_gradient(std::span<const float> params, std::span<const float> x,
                          std::span<const float> y, size_t batch, std::span<float> grad,
                          model_workspace& ws) const;

  /// Forward only over `count` samples, in chunks, accumulating loss and accuracy.
  evaluation evaluate(std::span<const float> params, std::span<const float> x,
                      std::span<const float> y, size_t count, model_workspace& ws) const;

private:
  model_spec spec_;
  param_layout layout_;
  model_head head_ = model_head::softmax_cross_entropy;
};

} // namespace tether
