// The memory floor of a training job (core/training_memory.hpp).
#include "core/training_memory.hpp"

namespace tether {

training_memory estimate_training_memory(const training_shape& s) {
  constexpr uint64_t f32 = sizeof(float);
  training_memory m;
  m.parameters = saturating_mul(s.params, f32);
  m.optimizer_state = saturating_mul(m.parameters, s.optimizer_slots);
  uint64_t activations = saturating_mul(
      saturating_mul(saturating_mul(s.activation_floats_per_sample, s.batch), 2), f32);
  m.per_worker = saturating_add(saturating_mul(m.parameters, 3), activations);
  m.checkpoint = saturating_add(m.parameters, m.optimizer_state);
  m.total = saturating_add(saturating_add(m.parameters, m.optimizer_state),
                           saturating_add(saturating_mul(m.per_worker, s.workers), m.checkpoint));
  return m;
}

status check_training_memory(const std::string& model, const training_shape& shape,
                             const memory_ceiling& ceiling) {
  auto m = estimate_training_memory(shape);
  if (m.total <= ceiling.bytes)
    return {};
  auto size = [](uint64_t bytes) {
    return bytes == UINT64_MAX ? std::string("more than 16 EiB") : format_bytes(bytes);
  };
  return status{errc::invalid_argument,
                "model " + model + " needs at least " + size(m.total) + " of memory (parameters " +
                    size(m.parameters) + ", optimizer state " + size(m.optimizer_state) + ", " +
                    std::to_string(shape.workers) + " worker" + (shape.workers == 1 ? "" : "s") +
                    " x " + size(m.per_worker) + ", checkpoint " + size(m.checkpoint) +
                    ") but this process may use " + size(ceiling.bytes) + " (" + ceiling.source +
                    "); use a smaller model, fewer workers or a smaller --batch"};
}

} // namespace tether
