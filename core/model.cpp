#include "core/model.hpp"

#include "core/splitmix64.hpp"

#include "core/blas.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace tether {

// ---- model strings ----------------------------------------------------------

namespace {

constexpr const char* spec_examples = "expected e.g. mlp:784,256,128,10, softmax or linear";

status bad_spec(const std::string& text, const std::string& what,
                const char* expected = spec_examples) {
  return status{errc::invalid_argument, "model \"" + text + "\" : " + what + "; " + expected};
}

bool is_classifier(const std::string& kind) {
  return kind == "mlp" || kind == "softmax";
}

// Checks the shape rules of a kind on a sizes list that is not empty.
status check_sizes(const std::string& text, const std::string& kind,
                   const std::vector<size_t>& sizes) {
  for (auto s : sizes)
    if (s == 0)
      return bad_spec(text, "layer size 0 is not a positive integer");
  if (kind == "mlp" && sizes.size() < 2)
    return bad_spec(text,
                    "an mlp needs at least an input and an output size, got " +
                        std::to_string(sizes.size()) + " size",
                    "expected e.g. mlp:784,256,128,10");
  if (kind == "softmax" && sizes.size() != 2)
    return bad_spec(text,
                    "softmax takes exactly two sizes (inputs, classes), got " +
                        std::to_string(sizes.size()),
                    "expected e.g. softmax:784,10 or softmax");
  if (kind == "linear" && (sizes.size() != 2 || sizes[1] != 1))
    return bad_spec(text, "linear takes exactly two sizes (features, 1)",
                    "expected e.g. linear:20,1 or linear");
  return status::ok();
}

} // namespace

std::string model_spec::to_string() const {
  std::string out = kind;
  for (size_t i = 0; i < sizes.size(); ++i) {
    out += i == 0 ? ':' : ',';
    out += std::to_string(sizes[i]);
  }
  return out;
}

result<model_spec> parse_model_spec(const std::string& text) {
  model_spec spec;
  auto colon = text.find(':');
  spec.kind = text.substr(0, colon);
  if (spec.kind != "mlp" && spec.kind != "softmax" && spec.kind != "linear")
    return bad_spec(text, "unknown model kind \"" + spec.kind + "\"",
                    "expected one of mlp:<sizes>, softmax, linear "
                    "(e.g. mlp:784,256,128,10)");
  if (colon == std::string::npos) {
    if (spec.kind == "mlp")
      return bad_spec(text, "an mlp needs its layer sizes", "expected e.g. mlp:784,256,128,10");
    return spec;
  }
  const std::string list = text.substr(colon + 1);
  if (list.empty())
    return bad_spec(text, "empty list of layer sizes after \":\"");
  size_t pos = 0;
  while (true) {
    auto comma = list.find(',', pos);
    std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    bool digits =
        !item.empty() && item.size() <= 9 &&
        std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
    size_t value = digits ? std::stoul(item) : 0;
    if (value == 0)
      return bad_spec(text, "layer size \"" + item + "\" is not a positive integer",
                      "expected e.g. mlp:784,256,128,10");
    spec.sizes.push_back(value);
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  if (auto st = check_sizes(text, spec.kind, spec.sizes); !st)
    return st;
  return spec;
}

result<model_spec> complete_spec(model_spec spec, size_t features, size_t classes) {
  const std::string name = spec.to_string();
  if (is_classifier(spec.kind) && classes == 0)
    return status{errc::mismatch, "model " + name + " is a classification model but the " +
                                      "data has continuous targets (regression); use linear"};
  if (spec.kind == "linear" && classes > 0)
    return status{errc::mismatch, "model " + name + " is a regression model but the data has " +
                                      std::to_string(classes) + " classes; use softmax or mlp:..."};
  if (features == 0)
    return status{errc::invalid_argument, "the data has 0 features"};
  const size_t outputs = classes == 0 ? 1 : classes;
  if (spec.sizes.empty())
    spec.sizes = {features, outputs};
  if (auto st = check_sizes(name, spec.kind, spec.sizes); !st)
    return st;
  if (spec.sizes.front() != features)
    return status{errc::mismatch, "model input size " + std::to_string(spec.sizes.front()) +
                                      " does not match the data's " + std::to_string(features) +
                                      " features (model " + name + ")"};
  if (spec.sizes.back() != outputs)
    return status{errc::mismatch, "model output size " + std::to_string(spec.sizes.back()) +
                                      " does not match the data's " + std::to_string(outputs) +
                                      (classes == 0 ? " regression output" : " classes") +
                                      " (model " + name + ")"};
  return spec;
}

// ---- construction and initialisation ----------------------------------------

result<model> model::make(const model_spec& spec) {
  const std::string name = spec.to_string();
  if (spec.kind != "mlp" && spec.kind != "softmax" && spec.kind != "linear")
    return bad_spec(name, "unknown model kind \"" + spec.kind + "\"");
  if (spec.sizes.empty())
    return status{errc::invalid_argument,
                  "model " + name + " has no sizes; complete it from the data first"};
  if (auto st = check_sizes(name, spec.kind, spec.sizes); !st)
    return st;
  model m;
  m.spec_ = spec;
  m.head_ = spec.kind == "linear" ? model_head::squared_error : model_head::softmax_cross_entropy;
  for (size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    const std::string prefix = "layer" + std::to_string(l);
    m.layout_.add(prefix + ".weight", {spec.sizes[l + 1], spec.sizes[l]});
    m.layout_.add(prefix + ".bias", {spec.sizes[l + 1]});
  }
  return m;
}

namespace {

} // namespace

void model::init_params(std::span<float> params, uint64_t seed) const {
  assert(params.size() == layout_.total);
  splitmix64 rng{seed};
  const size_t layers = spec_.sizes.size() - 1;
  for (size_t l = 0; l < layers; ++l) {
    const auto& w = layout_.tensors[2 * l];
    const auto& b = layout_.tensors[2 * l + 1];
    const double fan_in = static_cast<double>(spec_.sizes[l]);
    const double fan_out = static_cast<double>(spec_.sizes[l + 1]);
    const bool last = l + 1 == layers;
    const auto limit =
        static_cast<float>(last ? std::sqrt(6.0 / (fan_in + fan_out)) : std::sqrt(6.0 / fan_in));
    for (size_t i = 0; i < w.size; ++i)
      params[w.offset + i] = limit * rng.symmetric();
    std::fill_n(params.begin() + static_cast<ptrdiff_t>(b.offset), b.size, 0.0f);
  }
}

// ---- forward and backward -------------------------------------------------------
//
// Activations are stored feature-major (transposed): A_l^T is width x batch. With the
// caller's x batch-major, this makes every product a good shape for sgemm (measured
// about 3% faster than batch-major for mlp:784,256,128,10 at batch 64) and makes the
// bias add and the bias gradient run along contiguous rows.
// Layer l (0-based) maps A_l to A_{l+1}, W_l is sizes[l+1] x sizes[l] row-major:
//   Z^T = W_l * A_l^T + b_l (per row)   [sizes[l+1] x batch]
//   A_{l+1}^T = relu(Z^T) for hidden layers, Z^T (logits or prediction) for the last.
// ws.activations[l + 1] holds A_{l+1}^T; A_0 is the caller's x (never copied).
// ws.deltas[l] holds (d mean loss / d Z of layer l-1)^T; the head's delta is written
// over the last output. The 1/batch of the mean is folded into the head's delta.

namespace {

void ensure(std::vector<float>& v, size_t n) {
  if (v.size() < n)
    v.resize(n); // grows only when the batch grows; no allocation in steady state
}

/// zt[n x batch] += b (b[o] along row o); then relu when `relu`.
void add_bias(float* __restrict zt, const float* __restrict b, size_t n, size_t batch, bool relu) {
  for (size_t o = 0; o < n; ++o) {
    float* __restrict row = zt + o * batch;
    const float bo = b[o];
    if (relu) {
      for (size_t r = 0; r < batch; ++r)
        row[r] = std::max(row[r] + bo, 0.0f);
    } else {
      for (size_t r = 0; r < batch; ++r)
        row[r] += bo;
    }
  }
}

/// Softmax cross-entropy over the columns of logits zt[k x batch] with class labels y.
/// Adds the summed loss and the count of argmax hits; when `delta` is set, overwrites
/// zt with (softmax - onehot) * scale.
void softmax_head(float* __restrict zt, const float* y, size_t k, size_t batch, float scale,
                  bool delta, double& loss_sum, size_t& correct) {
  for (size_t r = 0; r < batch; ++r) {
    const auto label = static_cast<size_t>(y[r]);
    assert(y[r] >= 0 && label < k);
    size_t best = 0;
    for (size_t j = 1; j < k; ++j)
      if (zt[j * batch + r] > zt[best * batch + r])
        best = j;
    const float max = zt[best * batch + r];
    const float z_label = zt[label * batch + r];
    float sum = 0;
    for (size_t j = 0; j < k; ++j) {
      const float e = std::exp(zt[j * batch + r] - max); // stable: every exponent <= 0
      sum += e;
      if (delta)
        zt[j * batch + r] = e;
    }
    loss_sum += std::log(static_cast<double>(sum)) - static_cast<double>(z_label - max);
    correct += best == label ? 1 : 0;
    if (delta) {
      const float f = scale / sum;
      for (size_t j = 0; j < k; ++j)
        zt[j * batch + r] *= f;
      zt[label * batch + r] -= scale;
    }
  }
}

/// Squared error on predictions h[batch] (one output); returns sum err^2 and, when
/// `delta`, overwrites h with err * scale.
double squared_head(float* h, const float* y, size_t batch, float scale, bool delta) {
  double sum = 0;
  for (size_t r = 0; r < batch; ++r) {
    const float err = h[r] - y[r];
    sum += static_cast<double>(err) * err;
    if (delta)
      h[r] = err * scale;
  }
  return sum;
}

/// Runs all layers on `batch` rows of x; returns the last layer's output (outputs x batch).
float* forward(const std::vector<size_t>& sizes, const param_layout& layout, const float* params,
               const float* x, size_t batch, model_workspace& ws) {
  const size_t layers = sizes.size() - 1;
  if (ws.activations.size() < layers + 1)
    ws.activations.resize(layers + 1);
  for (size_t l = 0; l < layers; ++l) {
    auto& out = ws.activations[l + 1];
    ensure(out, sizes[l + 1] * batch);
    const float* w = params + layout.tensors[2 * l].offset;
    const float* b = params + layout.tensors[2 * l + 1].offset;
    // Z^T = W * A^T: the first layer reads x (batch x in) transposed.
    const float* in = l == 0 ? x : ws.activations[l].data();
    gemm(false, l == 0, sizes[l + 1], batch, sizes[l], 1.0f, w, in, 0.0f, out.data());
    add_bias(out.data(), b, sizes[l + 1], batch, l + 1 < layers);
  }
  return ws.activations[layers].data();
}

} // namespace

float model::loss_and_gradient(std::span<const float> params, std::span<const float> x,
                               std::span<const float> y, size_t batch, std::span<float> grad,
                               model_workspace& ws) const {
  assert(params.size() == layout_.total && grad.size() == layout_.total);
  assert(x.size() >= batch * inputs() && y.size() >= batch && batch > 0);
  const auto& sizes = spec_.sizes;
  const size_t layers = sizes.size() - 1;
  float* out = forward(sizes, layout_, params.data(), x.data(), batch, ws);

  // Head: the delta of the last layer is written over its output, in place.
  const float scale = 1.0f / static_cast<float>(batch);
  double loss = 0;
  if (head_ == model_head::softmax_cross_entropy) {
    size_t correct = 0;
    softmax_head(out, y.data(), outputs(), batch, scale, true, loss, correct);
    loss /= static_cast<double>(batch);
  } else {
    loss = squared_head(out, y.data(), batch, scale, true) / (2.0 * static_cast<double>(batch));
  }

  if (ws.deltas.size() < layers + 1)
    ws.deltas.resize(layers + 1);
  const float* delta = out; // (d loss / dZ of layer l)^T: sizes[l + 1] x batch
  for (size_t l = layers; l-- > 0;) {
    const size_t n_out = sizes[l + 1];
    const size_t n_in = sizes[l];
    const auto& wt = layout_.tensors[2 * l];
    const auto& bt = layout_.tensors[2 * l + 1];
    // dW[n_out x n_in] = delta^T * A_l; A_l is x itself (batch-major) for the first layer.
    const float* a_in = l == 0 ? x.data() : ws.activations[l].data();
    gemm(false, l != 0, n_out, n_in, batch, 1.0f, delta, a_in, 0.0f, grad.data() + wt.offset);
    // db[n_out] = row sums of delta^T
    float* __restrict gb = grad.data() + bt.offset;
    for (size_t o = 0; o < n_out; ++o) {
      const float* __restrict row = delta + o * batch;
      float sum = 0;
      for (size_t r = 0; r < batch; ++r)
        sum += row[r];
      gb[o] = sum;
    }
    if (l == 0)
      break; // no gradient with respect to the data
    // dA_l^T[n_in x batch] = W_l^T * delta^T, then through the ReLU of A_l.
    auto& next = ws.deltas[l];
    ensure(next, n_in * batch);
    gemm(true, false, n_in, batch, n_out, 1.0f, params.data() + wt.offset, delta, 0.0f,
         next.data());
    const float* __restrict a = ws.activations[l].data();
    float* __restrict d = next.data();
    for (size_t i = 0; i < n_in * batch; ++i)
      d[i] = a[i] > 0.0f ? d[i] : 0.0f;
    delta = next.data();
  }
  return static_cast<float>(loss);
}

evaluation model::evaluate(std::span<const float> params, std::span<const float> x,
                           std::span<const float> y, size_t count, model_workspace& ws) const {
  assert(params.size() == layout_.total);
  assert(x.size() >= count * inputs() && y.size() >= count);
  constexpr size_t chunk = 1000;
  evaluation ev;
  ev.count = count;
  if (count == 0)
    return ev;
  double loss_sum = 0;
  double sq_sum = 0;
  size_t correct = 0;
  for (size_t begin = 0; begin < count; begin += chunk) {
    const size_t n = std::min(chunk, count - begin);
    float* out = forward(spec_.sizes, layout_, params.data(), x.data() + begin * inputs(), n, ws);
    if (head_ == model_head::softmax_cross_entropy)
      softmax_head(out, y.data() + begin, outputs(), n, 1.0f, false, loss_sum, correct);
    else
      sq_sum += squared_head(out, y.data() + begin, n, 1.0f, false);
  }
  const auto m = static_cast<double>(count);
  if (head_ == model_head::softmax_cross_entropy) {
    ev.loss = loss_sum / m;
    ev.accuracy = static_cast<double>(correct) / m;
  } else {
    ev.mse = sq_sum / m;
    ev.loss = sq_sum / (2.0 * m);
  }
  return ev;
}

} // namespace tether
