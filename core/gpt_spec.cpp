#include "core/gpt_spec.hpp"

#include "core/gpt_block.hpp"

#include <algorithm>

namespace tether {

namespace {

constexpr const char* gpt_example = "expected e.g. gpt:layers=4,heads=4,embd=128,context=64";

status bad_gpt(const std::string& text, const std::string& what) {
  return status{errc::invalid_argument, "model \"" + text + "\": " + what + "; " + gpt_example};
}

struct key_limit {
  const char* name;
  size_t gpt_config::*field;
  size_t max;
};

// Upper bounds that keep every size product far from overflow and refuse typos early;
// whether a model fits in memory is gpt_memory_estimate's question.
constexpr key_limit keys[] = {
    {"layers", &gpt_config::layers, 1024}, {"heads", &gpt_config::heads, 1024},
    {"embd", &gpt_config::embd, 65536},    {"context", &gpt_config::context, 65536},
    {"mlp", &gpt_config::mlp, 262144},
};

} // namespace

std::string gpt_config::to_string() const {
  std::string out = "gpt:layers=" + std::to_string(layers) + ",heads=" + std::to_string(heads) +
                    ",embd=" + std::to_string(embd) + ",context=" + std::to_string(context);
  if (mlp != 0 && mlp != 4 * embd)
    out += ",mlp=" + std::to_string(mlp);
  return out;
}

bool is_gpt_spec(const std::string& text) {
  return text == "gpt" || text.rfind("gpt:", 0) == 0;
}

result<gpt_config> parse_gpt_spec(const std::string& text) {
  if (!is_gpt_spec(text))
    return bad_gpt(text, "not a gpt model");
  gpt_config cfg;
  if (text == "gpt")
    return cfg;
  const std::string list = text.substr(4);
  if (list.empty())
    return bad_gpt(text, "empty list of keys after \"gpt:\"");
  std::vector<std::string> seen;
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    if (comma == std::string::npos)
      comma = list.size();
    const std::string item = list.substr(pos, comma - pos);
    pos = comma + 1;
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      return bad_gpt(text, "\"" + item + "\" is not key=value");
    const std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    const auto* k = std::find_if(std::begin(keys), std::end(keys),
                                 [&](const key_limit& l) { return key == l.name; });
    if (k == std::end(keys))
      return bad_gpt(text,
                     "unknown key \"" + key + "\" (known: layers, heads, embd, context, mlp)");
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return bad_gpt(text, "key \"" + key + "\" is given twice");
    seen.push_back(key);
    const bool digits =
        !value.empty() && value.size() <= 9 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    const size_t n = digits ? std::stoul(value) : 0;
    if (n == 0)
      return bad_gpt(text,
                     "key \"" + key + "\" has value \"" + value + "\", not a positive integer");
    if (n > k->max)
      return bad_gpt(text, "key \"" + key + "\" = " + value + " is above its limit " +
                               std::to_string(k->max));
    cfg.*(k->field) = n;
  }
  if (cfg.embd % cfg.heads != 0)
    return bad_gpt(text, "key \"embd\" = " + std::to_string(cfg.embd) +
                             " is not a multiple of key \"heads\" = " + std::to_string(cfg.heads));
  return cfg;
}

param_layout gpt_layout(const gpt_config& cfg) {
  const size_t c = cfg.embd;
  param_layout layout;
  layout.add("wte.weight", {gpt_config::vocab, c});
  layout.add("wpe.weight", {cfg.context, c});
  for (size_t l = 0; l < cfg.layers; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    layout.add(p + "ln_1.weight", {c});
    layout.add(p + "ln_1.bias", {c});
    layout.add(p + "attn.c_attn.weight", {3 * c, c});
    layout.add(p + "attn.c_proj.weight", {c, c});
    layout.add(p + "ln_2.weight", {c});
    layout.add(p + "ln_2.bias", {c});
    layout.add(p + "mlp.c_fc.weight", {cfg.mlp_width(), c});
    layout.add(p + "mlp.c_proj.weight", {c, cfg.mlp_width()});
  }
  layout.add("ln_f.weight", {c});
  layout.add("ln_f.bias", {c});
  return layout;
}

std::vector<key_range> gpt_decayed_ranges(const param_layout& layout) {
  std::vector<key_range> out;
  for (const auto& t : layout.tensors) {
    if (t.shape.size() != 2)
      continue;
    if (!out.empty() && out.back().end == t.offset)
      out.back().end = t.offset + t.size; // adjacent matrices merge into one range
    else
      out.push_back({t.offset, t.offset + t.size});
  }
  return out;
}

std::vector<gpt_layer_cost> gpt_layer_costs(const gpt_config& cfg, size_t batch) {
  const double n = static_cast<double>(batch * cfg.context); // tokens
  const double c = static_cast<double>(cfg.embd);
  const double m = static_cast<double>(cfg.mlp_width());
  const double t = static_cast<double>(cfg.context);
  const double v = static_cast<double>(gpt_config::vocab);
  const size_t rows = batch * cfg.context;
  std::vector<gpt_layer_cost> out;

  // The embedding's output is the first block's input, counted there.
  out.push_back({"embedding", (gpt_config::vocab + cfg.context) * cfg.embd, 0, 0, 0});

  const double block_matrix = 4 * c * c + 2 * c * m; // c_attn, c_proj, c_fc, c_proj
  // The attention core does Q K^T and P V over full seq x seq blocks (the causal half
  // is computed and masked): 2 products of n x t x c each.
  const double attn_core = 2.0 * 2.0 * n * t * c;
  for (size_t l = 0; l < cfg.layers; ++l) {
    gpt_layer_cost b;
    b.name = "block " + std::to_string(l);
    b.params = 4 * cfg.embd + static_cast<size_t>(block_matrix);
    b.forward_flops = 2.0 * n * block_matrix + attn_core;
    b.backward_flops = 2.0 * b.forward_flops;
    // What block_activations keeps, plus the block's input (the residual stream).
    const block_shape shape{batch, cfg.context, cfg.heads, cfg.embd, cfg.mlp_width(), cfg.context};
    b.activation_bytes = 4 * (block_activations<float>::elements(shape) + rows * cfg.embd);
    out.push_back(b);
  }
  gpt_layer_cost head;
  head.name = "head";
  head.params = 2 * cfg.embd;
  head.forward_flops = 2.0 * n * c * v;
  head.backward_flops = 2.0 * head.forward_flops;
  // ln_f's input, output and row statistics, and the logits.
  head.activation_bytes = 4 * (rows * (2 * cfg.embd + 2 + gpt_config::vocab));
  out.push_back(head);
  return out;
}

} // namespace tether
