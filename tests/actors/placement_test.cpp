// Tests of actors/placement.hpp: shards spread over nodes before any node gets a second,
// workers fill nodes in proportion to their cores, unusable nodes are skipped, ties go to
// the node that joined first.
#include <doctest/doctest.h>

#include "actors/placement.hpp"

using namespace tether;

namespace {

/// Places `shards` shards then `workers` workers one by one; answers the final loads.
std::vector<node_load> place_all(std::vector<node_load> nodes, int shards, int workers) {
  for (int s = 0; s < shards; ++s) {
    auto n = pick_node(nodes, placed_role::shard);
    REQUIRE(n);
    ++nodes[*n].shards;
  }
  for (int w = 0; w < workers; ++w) {
    auto n = pick_node(nodes, placed_role::worker);
    REQUIRE(n);
    ++nodes[*n].workers;
  }
  return nodes;
}

} // namespace

TEST_CASE("shards spread over the nodes before any node gets a second one") {
  auto nodes = place_all({{true, 4}, {true, 1}, {true, 2}}, 3, 0);
  for (auto& n : nodes)
    CHECK(n.shards == 1);
  nodes = place_all({{true, 4}, {true, 1}}, 3, 0);
  CHECK(nodes[0].shards == 2); // the second round goes by load: 4 cores take it
  CHECK(nodes[1].shards == 1);
}

TEST_CASE("workers fill the nodes in proportion to their cores") {
  auto nodes = place_all({{true, 1}, {true, 3}}, 0, 8);
  CHECK(nodes[0].workers == 2);
  CHECK(nodes[1].workers == 6);
  // With the shards counted in the load: 2 shards and 4 workers on two equal nodes.
  nodes = place_all({{true, 2}, {true, 2}}, 2, 4);
  CHECK(nodes[0].shards + nodes[0].workers == 3);
  CHECK(nodes[1].shards + nodes[1].workers == 3);
}

TEST_CASE("unusable nodes get nothing, no usable node gives nothing, ties go to the first") {
  std::vector<node_load> nodes{{false, 8}, {true, 1}, {true, 1}};
  CHECK(pick_node(nodes, placed_role::worker) == std::optional<size_t>{1});
  CHECK(pick_node(nodes, placed_role::shard) == std::optional<size_t>{1});
  nodes[1].usable = nodes[2].usable = false;
  CHECK(!pick_node(nodes, placed_role::worker));
  CHECK(!pick_node({}, placed_role::shard));
}
