#include "core/gpt_model.hpp"

#include "core/blas.hpp"

#include <doctest/doctest.h>

using namespace tether;

namespace {

struct tiny {
  gpt_model model;
  std::vector<float> params;
};

tiny make_tiny() {
  gpt_config cfg;
  cfg.layers = 1;
  cfg.heads = 2;
  cfg.embd = 16;
  cfg.context = 8;
  auto m = gpt_model::make(cfg);
  REQUIRE(m.is_ok());
  tiny t{std::move(m).value(), {}};
  t.params.resize(t.model.layout().total);
  t.model.init_params(t.params, 3);
  for (auto& p : t.params) // a sharper distribution than the init's, so samples differ
    p *= 20.0f;
  return t;
}

} // namespace

TEST_CASE("generate: the same seed gives the same text, another seed another") {
  use_single_threaded_blas();
  auto t = make_tiny();
  gpt_workspace ws;
  const auto a = t.model.generate(t.params, "Hello", 40, 1.0f, 0, 9, ws);
  const auto b = t.model.generate(t.params, "Hello", 40, 1.0f, 0, 9, ws);
  const auto c = t.model.generate(t.params, "Hello", 40, 1.0f, 0, 10, ws);
  CHECK(a.size() == 40);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("generate: temperature 0 and top-k 1 both take the most likely byte") {
  use_single_threaded_blas();
  auto t = make_tiny();
  gpt_workspace ws;
  const auto greedy = t.model.generate(t.params, "abc", 20, 0.0f, 0, 1, ws);
  CHECK(greedy == t.model.generate(t.params, "abc", 20, 0.0f, 0, 2, ws)); // seed unused
  CHECK(greedy == t.model.generate(t.params, "abc", 20, 5.0f, 1, 3, ws));
}

TEST_CASE("generate: prompts longer than the context and empty prompts work") {
  use_single_threaded_blas();
  auto t = make_tiny();
  gpt_workspace ws;
  const std::string long_prompt(100, 'x'); // only the last 8 bytes are seen
  const auto a = t.model.generate(t.params, long_prompt, 10, 0.0f, 0, 1, ws);
  const auto b = t.model.generate(t.params, std::string(8, 'x'), 10, 0.0f, 0, 1, ws);
  CHECK(a == b);
  CHECK(t.model.generate(t.params, "", 5, 1.0f, 0, 1, ws).size() == 5);
  CHECK(t.model.generate(t.params, "", 0, 1.0f, 0, 1, ws).empty());
  CHECK(t.model.generate(t.params, "\n", 12, 0.8f, 40, 4, ws) ==
        t.model.generate(t.params, "", 12, 0.8f, 40, 4, ws));
}
