// The memory a training job needs, computed from the model's sizes before anything is
// allocated, so that a model that cannot fit (--model=mlp:784,999999999,10) is refused
// with the figure and the limit instead of ending in std::bad_alloc.
//
// The figure is a floor of what the job holds at once in one process, in float32:
//   parameters          P                      (the shards)
//   optimizer state     P x slots              (momentum 1, adam 2)
//   per worker          3 P + 2 x batch x A    (its copy of the parameters, its gradient,
//                                              the slices in flight; activations and
//                                              their gradients for one minibatch)
//   checkpoint          P x (1 + slots)        (the consistent cut being written)
// where A is the number of activation floats one sample needs in a forward pass (for a
// stack of dense layers: the sum of the layer widths after the input). Every product
// saturates at UINT64_MAX instead of wrapping. Any model kind can use it: it takes
// numbers, not a model_spec.
// Thread-safety: plain functions.
#pragma once

#include "core/memory_limit.hpp"
#include "core/status.hpp"

#include <cstdint>

namespace tether {

struct training_shape {
  uint64_t params = 0;                       ///< P: floats in the flat parameter vector
  uint64_t activation_floats_per_sample = 0; ///< A
  uint32_t optimizer_slots = 0;              ///< optimizer floats per parameter
  uint32_t workers = 1;                      ///< workers in this process
  uint32_t batch = 1;                        ///< samples per worker step
};

struct training_memory {
  uint64_t parameters = 0;      ///< bytes
  uint64_t optimizer_state = 0; ///< bytes
  uint64_t per_worker = 0;      ///< bytes, each worker
  uint64_t checkpoint = 0;      ///< bytes
  uint64_t total = 0;           ///< bytes: all of the above, every worker counted
};

training_memory estimate_training_memory(const training_shape& shape);

/// errc::invalid_argument when the estimate is over `ceiling`, with both figures: "model
/// M needs at least X of memory (parameters .., optimizer state .., N workers x ..,
/// checkpoint ..) but this process may use Y (the machine's physical memory); ...".
/// `model` names the model in the message.
status check_training_memory(const std::string& model, const training_shape& shape,
                             const memory_ceiling& ceiling);

} // namespace tether
