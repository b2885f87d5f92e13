#include "core/gpt_spec.hpp"

#include <doctest/doctest.h>

using namespace tether;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_gpt_spec(text);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.error().code() == errc::invalid_argument);
  return r.error().message();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("gpt spec: the default spelling, defaults and the canonical text") {
  auto r = parse_gpt_spec("gpt:layers=4,heads=4,embd=128,context=64");
  REQUIRE(r.is_ok());
  CHECK(r->layers == 4);
  CHECK(r->heads == 4);
  CHECK(r->embd == 128);
  CHECK(r->context == 64);
  CHECK(r->mlp_width() == 512);
  CHECK(r->to_string() == "gpt:layers=4,heads=4,embd=128,context=64");
  CHECK(parse_gpt_spec("gpt")->to_string() == r->to_string());
  auto small = parse_gpt_spec("gpt:context=32,layers=2,mlp=100");
  REQUIRE(small.is_ok());
  CHECK(small->to_string() == "gpt:layers=2,heads=4,embd=128,context=32,mlp=100");
  CHECK(is_gpt_spec("gpt"));
  CHECK(is_gpt_spec("gpt:layers=1"));
  CHECK_FALSE(is_gpt_spec("gptx"));
  CHECK_FALSE(is_gpt_spec("mlp:784,10"));
}

TEST_CASE("gpt spec: errors name the bad key") {
  CHECK(contains(error_of("gpt:layers=4,depth=3"), "unknown key \"depth\""));
  CHECK(contains(error_of("gpt:heads=0"), "key \"heads\""));
  CHECK(contains(error_of("gpt:embd=12x"), "key \"embd\""));
  CHECK(contains(error_of("gpt:embd=-1"), "key \"embd\""));
  CHECK(contains(error_of("gpt:context="), "key \"context\""));
  CHECK(contains(error_of("gpt:layers=2,layers=3"), "\"layers\" is given twice"));
  CHECK(contains(error_of("gpt:heads=3"), "not a multiple of key \"heads\""));
  CHECK(contains(error_of("gpt:layers"), "not key=value"));
  CHECK(contains(error_of("gpt:"), "empty"));
  CHECK(contains(error_of("gpt:layers=4,"), "not key=value"));
  CHECK(contains(error_of("gpt:context=9999999"), "above its limit"));
  CHECK(contains(error_of("gpt:layers=1,heads=2,embd=7"), "\"embd\""));
}

TEST_CASE("gpt spec: the layout's names, shapes and order") {
  gpt_config cfg;
  cfg.layers = 2;
  const auto layout = gpt_layout(cfg);
  REQUIRE(layout.tensors.size() == 2 + 8 * 2 + 2);
  CHECK(layout.tensors[0].name == "wte.weight");
  CHECK(layout.tensors[0].shape == std::vector<size_t>{256, 128});
  CHECK(layout.tensors[1].name == "wpe.weight");
  CHECK(layout.tensors[1].shape == std::vector<size_t>{64, 128});
  CHECK(layout.tensors[4].name == "h.0.attn.c_attn.weight");
  CHECK(layout.tensors[4].shape == std::vector<size_t>{384, 128});
  CHECK(layout.tensors[8].name == "h.0.mlp.c_fc.weight");
  CHECK(layout.tensors[9].name == "h.0.mlp.c_proj.weight");
  CHECK(layout.tensors[9].shape == std::vector<size_t>{128, 512});
  CHECK(layout.tensors[17].name == "h.1.mlp.c_proj.weight");
  CHECK(layout.tensors[18].name == "ln_f.weight");
  CHECK(layout.tensors[19].name == "ln_f.bias");
  CHECK(layout.total == 256 * 128 + 64 * 128 + 2 * (4 * 128 + 12 * 128 * 128) + 2 * 128);
}

TEST_CASE("gpt spec: weight decay covers exactly the matrices") {
  const auto layout = gpt_layout(gpt_config{});
  const auto ranges = gpt_decayed_ranges(layout);
  size_t decayed = 0;
  for (const auto& r : ranges)
    decayed += r.size();
  size_t matrices = 0;
  for (const auto& t : layout.tensors) {
    bool in = false;
    for (const auto& r : ranges)
      in = in || (t.offset >= r.begin && t.offset + t.size <= r.end);
    CHECK(in == (t.shape.size() == 2));
    if (t.shape.size() == 2)
      matrices += t.size;
  }
  CHECK(decayed == matrices);
  CHECK(ranges.front() == key_range{0, (256 + 64) * 128}); // both embeddings, merged
  CHECK(ranges.size() == 1 + 2 * 4); // then attention and MLP matrices of each block
}

TEST_CASE("gpt spec: per-layer costs add up to the model") {
  const gpt_config cfg;
  const auto costs = gpt_layer_costs(cfg, 12);
  REQUIRE(costs.size() == cfg.layers + 2);
  size_t params = 0;
  for (const auto& c : costs)
    params += c.params;
  CHECK(params == gpt_layout(cfg).total);
  CHECK(costs[1].name == "block 0");
  // One block: 12 C^2 weights, 2 FLOPs each per token, plus the attention core.
  const double tokens = 12.0 * 64;
  CHECK(costs[1].forward_flops ==
        doctest::Approx(2 * tokens * 12 * 128 * 128 + 4 * tokens * 64 * 128));
  CHECK(costs[1].backward_flops == doctest::Approx(2 * costs[1].forward_flops));
  CHECK(costs.back().forward_flops == doctest::Approx(2 * tokens * 128 * 256));
  CHECK(costs[1].activation_bytes > 0);
}
