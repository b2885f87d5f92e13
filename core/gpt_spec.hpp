// The byte-level GPT's shape: parsing --model=gpt:..., its parameter layout, and what it
// costs (memory, parameters and FLOPs per layer) before anything is allocated.
//
// Spelling: gpt:layers=4,heads=4,embd=128,context=64[,mlp=512]. Every key is optional
// (the values shown are the defaults; "gpt" alone is the default model); mlp is the MLP's
// hidden width, 4 * embd unless given. The vocabulary is the 256 byte values.
//
// The flat parameter vector (core/layout.hpp), in this order, GPT-2's names; every
// matrix is [out, in] (nn.Linear's orientation, not GPT-2's Conv1D [in, out]):
//   wte.weight            [256, embd]        token embedding, also the output head (tied)
//   wpe.weight            [context, embd]    position embedding
//   for l in 0..layers-1, prefix h.<l>.:
//     ln_1.weight, ln_1.bias           [embd]
//     attn.c_attn.weight               [3 embd, embd]   rows: q, k, v
//     attn.c_proj.weight               [embd, embd]
//     ln_2.weight, ln_2.bias           [embd]
//     mlp.c_fc.weight                  [mlp, embd]
//     mlp.c_proj.weight                [embd, mlp]
//   ln_f.weight, ln_f.bias             [embd]
// Linear layers have no bias; LayerNorms have a gain (.weight) and a bias.
#pragma once

#include "core/layout.hpp"
#include "core/status.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tether {

struct gpt_config {
  size_t layers = 4;
  size_t heads = 4;
  size_t embd = 128;
  size_t context = 64;
  size_t mlp = 0; ///< hidden width of the MLP; 0 means 4 * embd (mlp_width())
  static constexpr size_t vocab = 256;

  size_t mlp_width() const { return mlp == 0 ? 4 * embd : mlp; }
  std::string to_string() const; ///< canonical text, e.g. gpt:layers=4,heads=4,embd=128,context=64
  friend bool operator==(const gpt_config&, const gpt_config&) = default;
};

/// True when --model names a GPT ("gpt" or "gpt:..."), so the caller picks this parser.
bool is_gpt_spec(const std::string& text);

/// Parses the spelling above. Errors (errc::invalid_argument) name the bad key: unknown,
/// repeated, not a positive integer, out of range, or embd not a multiple of heads.
result<gpt_config> parse_gpt_spec(const std::string& text);

/// The layout above.
param_layout gpt_layout(const gpt_config& cfg);

/// The key ranges that weight decay applies to: every matrix (each 2-D tensor, the two
/// embeddings included), not the LayerNorm gains and biases. Sorted, disjoint.
std::vector<key_range> gpt_decayed_ranges(const param_layout& layout);

/// What one unit of the model costs, for balancing pipeline stages and refusing a model
/// that cannot fit. FLOPs count a multiply-add as 2 and cover the matrix products and
/// the attention core (elementwise work is left out: it is under 2% for the default).
struct gpt_layer_cost {
  std::string name;            ///< "embedding", "block 0", ..., "head" (ln_f + tied head)
  size_t params = 0;           ///< parameters owned (the tied wte counts in "embedding")
  double forward_flops = 0;    ///< per batch of `batch` full-length sequences
  double backward_flops = 0;   ///< about twice the forward
  size_t activation_bytes = 0; ///< kept from the forward pass for the backward, float32
};
std::vector<gpt_layer_cost> gpt_layer_costs(const gpt_config& cfg, size_t batch);

} // namespace tether
